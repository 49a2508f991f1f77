import { randomUUID } from 'node:crypto';
import { DEMO_SERVICES } from './upstream.js';

/** One answer a kiosk got through /svc, as the kiosk would show it. */
export interface KioskAnswer {
  kiosk: string;
  at: string;
  path: string;
  status: number;
  /** X-Cache: HIT | MISS | STALE | REVALIDATED; absent when the gateway did not answer. */
  cache: string | null;
  /** X-Data-Date: when the data was fetched from the upstream ("data per ..."). */
  data_date: string | null;
}

/** One application a kiosk submitted with an Idempotency-Key. */
export interface KioskWrite {
  kiosk: string;
  key: string;
  at: string;
  /** 201: delivered at once; 202: queued by the gateway (delivered later); else failed. */
  status: number;
}

export interface KioskServiceStats {
  reads: number;
  byCache: Record<string, number>;
  writes: number;
  queued: number;
  failed: number;
}

const RECENT = 40;

/**
 * What the demo kiosks do with the village services: read the catalogue, a form (PDF) and
 * the announcements through the gateway's `/svc/layanan/...`, and now and then submit an
 * application with a fresh Idempotency-Key. Shared by all kiosks so the page can show the
 * last answers. Plain timers: a try-out tool beside the daemon, not part of it.
 */
export class KioskServices {
  readonly answers: KioskAnswer[] = [];
  readonly writes: KioskWrite[] = [];
  /** Keys of applications the gateway queued (202), to check each arrives exactly once. */
  readonly queuedKeys: string[] = [];
  readonly stats: KioskServiceStats = { reads: 0, byCache: {}, writes: 0, queued: 0, failed: 0 };
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly busy = new Set<string>();
  private tick = 0;

  constructor(
    private readonly o: {
      /** The gateway's /svc base for the upstream, e.g. http://127.0.0.1:8080/svc/layanan. */
      svcBase: string;
      /** Between two requests of one kiosk. */
      intervalMs: number;
      /** Every n-th request of a kiosk is an application. */
      writeEvery: number;
    },
  ) {}

  /** Starts (or resumes, after a power cut) one kiosk's requests. */
  start(kiosk: string, token: string): void {
    if (this.timers.has(kiosk)) return;
    const t = setInterval(() => void this.step(kiosk, token), this.o.intervalMs);
    t.unref();
    this.timers.set(kiosk, t);
    void this.step(kiosk, token);
  }

  stop(kiosk: string): void {
    clearInterval(this.timers.get(kiosk));
    this.timers.delete(kiosk);
  }

  stopAll(): void {
    for (const k of [...this.timers.keys()]) this.stop(k);
  }

  /** The last stale answer a kiosk was given, if any. */
  lastStale(): KioskAnswer | undefined {
    return [...this.answers].reverse().find((a) => a.cache === 'STALE');
  }

  private async step(kiosk: string, token: string): Promise<void> {
    if (this.busy.has(kiosk)) return;
    this.busy.add(kiosk);
    try {
      this.tick++;
      if (this.tick % this.o.writeEvery === 0) await this.submit(kiosk, token);
      else await this.read(kiosk, token, this.pickPath());
    } finally {
      this.busy.delete(kiosk);
    }
  }

  private pickPath(): string {
    const r = this.tick % 4;
    if (r === 0) return '/katalog';
    if (r === 2) return `/formulir/${DEMO_SERVICES[this.tick % DEMO_SERVICES.length]}.pdf`;
    return '/pengumuman';
  }

  private async read(kiosk: string, token: string, path: string): Promise<void> {
    let status = 0;
    let cache: string | null = null;
    let dataDate: string | null = null;
    try {
      const res = await fetch(`${this.o.svcBase}${path}`, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(8000),
      });
      await res.arrayBuffer();
      status = res.status;
      cache = res.headers.get('x-cache');
      dataDate = res.headers.get('x-data-date');
    } catch {
      // gateway unreachable (the demo stopping): recorded as status 0
    }
    this.stats.reads++;
    const k = cache ?? String(status);
    this.stats.byCache[k] = (this.stats.byCache[k] ?? 0) + 1;
    push(this.answers, { kiosk, at: new Date().toISOString(), path, status, cache, data_date: dataDate });
  }

  private async submit(kiosk: string, token: string): Promise<void> {
    const key = randomUUID();
    const service = DEMO_SERVICES[this.tick % DEMO_SERVICES.length] ?? 'ktp-el';
    let status = 0;
    try {
      const res = await fetch(`${this.o.svcBase}/permohonan`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'idempotency-key': key,
        },
        // No personal data: the kiosk sends only which service was asked for.
        body: JSON.stringify({ layanan: service }),
        signal: AbortSignal.timeout(8000),
      });
      await res.arrayBuffer();
      status = res.status;
    } catch {
      // as above
    }
    this.stats.writes++;
    if (status === 202) {
      this.stats.queued++;
      if (this.queuedKeys.length < 1000) this.queuedKeys.push(key);
    } else if (status !== 201 && status !== 200) this.stats.failed++;
    push(this.writes, { kiosk, key, at: new Date().toISOString(), status });
  }
}

function push<T>(list: T[], item: T): void {
  list.push(item);
  if (list.length > RECENT) list.splice(0, list.length - RECENT);
}
