import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpOrigin } from '../sim/http-origin.js';
import { KIOSK_SERVICES } from '../sim/services.js';
import { formPdf } from './form-pdf.js';

/** Names of the village services the simulated upstream offers (the kiosks' own list). */
const TITLES: Readonly<Record<string, string>> = {
  'ktp-el': 'KTP Elektronik',
  'kartu-keluarga': 'Kartu Keluarga',
  'akta-kelahiran': 'Akta Kelahiran',
  'surat-keterangan-domisili': 'Surat Keterangan Domisili',
  'surat-keterangan-usaha': 'Surat Keterangan Usaha',
  'surat-keterangan-tidak-mampu': 'Surat Keterangan Tidak Mampu',
  'surat-pindah': 'Surat Pindah',
  'akta-kematian': 'Akta Kematian',
  'kartu-identitas-anak': 'Kartu Identitas Anak',
  'surat-pengantar-skck': 'Surat Pengantar SKCK',
  'surat-keterangan-ahli-waris': 'Surat Keterangan Ahli Waris',
  'cek-bansos': 'Cek Bantuan Sosial',
};

export const DEMO_SERVICES = KIOSK_SERVICES.map((s) => s.service);

export interface UpstreamStats {
  up: boolean;
  reads: number;
  /** POST /permohonan requests, repeats included. */
  submissions: number;
  /** Distinct Idempotency-Keys recorded: each application counted once. */
  applications: number;
  /** Requests that repeated a key already recorded (answered with the first answer). */
  repeats: number;
}

interface Application {
  id: number;
  service: string;
  at: string;
}

/** How long each kind of answer stays fresh (seconds), as Cache-Control max-age. */
const MAX_AGE = { katalog: 120, formulir: 600, pengumuman: 5 } as const;
const MAX_BODY = 16 * 1024;

/**
 * A simulated public-service upstream ("layanan" on the internet) for the demo: a catalogue
 * of village services, each form as a small PDF, announcements, and POST /permohonan that
 * records each Idempotency-Key once, so "delivered exactly once" can be checked from outside
 * (GET /permohonan/_count). Stopping it (`stop()`) is how the demo's fiber cut makes the
 * internet side unreachable; `start()` binds the same port again.
 */
export class DemoUpstream {
  private readonly origin = new HttpOrigin({
    handler: (req, res) => this.handle(req, res),
    keepAliveMs: 2000,
  });
  private readonly applications = new Map<string, Application>();
  private readonly pdfs = new Map<string, Buffer>();
  private reads = 0;
  private submissions = 0;
  private repeats = 0;
  private announcementSeq = 0;

  get url(): string {
    return this.origin.url;
  }

  get stats(): UpstreamStats {
    return {
      up: this.origin.listening,
      reads: this.reads,
      submissions: this.submissions,
      applications: this.applications.size,
      repeats: this.repeats,
    };
  }

  /** Times each key was delivered is always 1 here; exposed for the checks. */
  hasApplication(key: string): boolean {
    return this.applications.has(key);
  }

  get port(): number {
    return this.origin.port;
  }

  start(): Promise<void> {
    return this.origin.start();
  }

  stop(): Promise<void> {
    return this.origin.stop();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://upstream');
    const path = url.pathname;
    if (req.method === 'POST' && path === '/permohonan') {
      this.collect(req, res);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      json(res, 405, { error: 'method' });
      return;
    }
    this.reads++;
    if (path === '/health') {
      json(res, 200, { ok: true });
      return;
    }
    if (path === '/katalog') {
      json(res, 200, { layanan: catalogue() }, MAX_AGE.katalog);
      return;
    }
    if (path === '/pengumuman') {
      json(res, 200, this.announcements(), MAX_AGE.pengumuman);
      return;
    }
    if (path === '/permohonan/_count') {
      json(res, 200, this.stats);
      return;
    }
    const form = /^\/formulir\/([a-z-]+)\.pdf$/.exec(path)?.[1];
    if (form && TITLES[form]) {
      let pdf = this.pdfs.get(form);
      if (!pdf) {
        pdf = formPdf(`Formulir ${TITLES[form]}`, [
          'Desa Kemiren (demo) - formulir contoh, bukan dokumen resmi.',
          'Isi di kantor desa; data pribadi tidak dikirim lewat kios.',
        ]);
        this.pdfs.set(form, pdf);
      }
      res.writeHead(200, {
        'content-type': 'application/pdf',
        'content-length': pdf.length,
        'cache-control': `public, max-age=${MAX_AGE.formulir}`,
        'last-modified': new Date(0).toUTCString(),
      });
      res.end(req.method === 'HEAD' ? undefined : pdf);
      return;
    }
    json(res, 404, { error: 'not_found' });
  }

  private announcements(): unknown {
    this.announcementSeq++;
    return {
      pengumuman: [
        { judul: 'Posyandu balita hari Kamis pukul 08.00 di balai desa', nomor: 1 },
        { judul: 'Pelayanan KTP-el keliling minggu depan', nomor: 2 },
        { judul: `Pembaruan data bansos (versi ${this.announcementSeq})`, nomor: 3 },
      ],
      diterbitkan: new Date().toISOString(),
    };
  }

  /** Records an application once per Idempotency-Key; a repeat gets the first answer back. */
  private collect(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => {
      this.submissions++;
      const key = req.headers['idempotency-key'];
      if (typeof key !== 'string' || key.length === 0 || key.length > 200) {
        json(res, 400, { error: 'idempotency_key_required' });
        return;
      }
      if (size > MAX_BODY) {
        json(res, 413, { error: 'too_large' });
        return;
      }
      const known = this.applications.get(key);
      if (known) {
        this.repeats++;
        json(res, 200, { nomor: known.id, status: 'diterima', ulang: true });
        return;
      }
      let service = 'lainnya';
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { layanan?: unknown };
        if (typeof body.layanan === 'string' && TITLES[body.layanan]) service = body.layanan;
      } catch {
        json(res, 400, { error: 'bad_json' });
        return;
      }
      const app: Application = { id: this.applications.size + 1, service, at: new Date().toISOString() };
      this.applications.set(key, app);
      json(res, 201, { nomor: app.id, status: 'diterima' });
    });
  }
}

function catalogue(): unknown[] {
  return DEMO_SERVICES.map((s) => ({
    kode: s,
    nama: TITLES[s] ?? s,
    formulir: `/formulir/${s}.pdf`,
    syarat: ['Kartu Keluarga', 'KTP-el pemohon'],
  }));
}

function json(res: ServerResponse, status: number, body: unknown, maxAgeS?: number): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': maxAgeS === undefined ? 'no-store' : `public, max-age=${maxAgeS}`,
  });
  res.end(text);
}
