import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { MAIN_JS, REPO_ROOT } from '../helpers/daemon.js';
import { TestBroker } from '../helpers/mosquitto.js';
import { freePort } from '../helpers/net.js';
import { makeTestPki, type TestPki } from '../helpers/tls.js';
import { tempDir } from '../helpers/tmp.js';
import { DIALECTS, queryStore, RegencyDaemon, regencyCli, regencyConfig, TestStore } from './helpers.js';

const V = '3510170012'; // Kemiren
const W = '3510170011';
const BOX_CONFIG = '/etc/kampung-gateway/config.yaml';

/** `kampung-gw provision ...` on a box, with `stdin` piped in when given. */
function box(argv: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = execFile(
      process.execPath,
      [MAIN_JS, 'provision', ...argv],
      { timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr }),
    );
    p.stdin?.end(stdin ?? '');
  });
}

/** A raw GET of the bundle route from a chosen loopback address (the throttle counts per address). */
function getBundle(url: string, ca: string, code: string, from = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      { ca, localAddress: from, headers: { authorization: `Bearer ${code}` } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

type Issued = {
  fetch: { codes: Array<{ code: string; fetch_code: string; url: string }>; fingerprint: string };
};

describe.each(DIALECTS)(
  'a box fetches its bundle once with a one-time code over pinned TLS (%s)',
  (dialect) => {
    const tmp = tempDir('kgw-prov-fetch-');
    const store = new TestStore(dialect, tmp.path);
    const broker = new TestBroker();
    const out = join(tmp.path, 'out');
    let pki: TestPki;
    let other: TestPki;
    let daemon: RegencyDaemon;
    const codesSeen: string[] = [];

    const issue = async (village: string) => {
      const r = await regencyCli([
        'provision',
        village,
        '--fetch-code',
        '--json',
        '--out',
        out,
        '--config',
        daemon.configPath,
      ]);
      if (r.code !== 0) throw new Error(r.err);
      const c = (JSON.parse(r.out) as Issued).fetch.codes[0] as Issued['fetch']['codes'][number];
      codesSeen.push(c.fetch_code);
      return c;
    };
    const stagedBox = (name: string) => {
      const root = join(tmp.path, name);
      mkdirSync(join(root, 'etc', 'kampung-gateway'), { recursive: true });
      copyFileSync(join(REPO_ROOT, 'config', 'default.yaml'), join(root, BOX_CONFIG));
      return root;
    };
    /** The code from a file (0600, as a technician would keep it), never on the command line. */
    const fetchInto = (root: string, c: { url: string; fetch_code: string }, ...pin: string[]) => {
      const f = join(tmp.path, `code-${Math.random()}`);
      writeFileSync(f, `${c.fetch_code}\n`, { mode: 0o600 });
      return box(['--from', c.url, '--code-file', f, ...pin, '--root', root, '--config', BOX_CONFIG]);
    };

    beforeAll(async () => {
      mkdirSync(join(tmp.path, 'other'), { recursive: true });
      pki = await makeTestPki(tmp.path);
      other = await makeTestPki(join(tmp.path, 'other'));
      await broker.start();
      await store.create();
      const port = await freePort();
      daemon = new RegencyDaemon(`${tmp.path}/regency`, {
        ...regencyConfig(store, broker.url),
        http: {
          listen: `127.0.0.1:${port}`,
          metrics: false,
          tls: { cert_file: pki.certFile, key_file: pki.keyFile, ca_file: pki.caFile },
        },
        provision: { gateway_url: 'mqtts://127.0.0.1:8883', ca_file: pki.caFile },
      });
      await daemon.start();
    }, 60_000);
    afterAll(async () => {
      await daemon?.kill();
      await broker.dispose();
      await store.drop();
      tmp.cleanup();
    });

    it('installs a fetched bundle; the code then is spent (410), and the code never appears in a URL', async () => {
      const c = await issue(V);
      expect(c.url).toBe(`https://127.0.0.1:${daemon.port}/api/v1/villages/${V}/bundle`);
      expect(c.fetch_code).toMatch(/^[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}$/);
      const root = stagedBox('box1');
      const r = await fetchInto(root, c, '--ca', pki.caFile);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const cfg = parse(readFileSync(join(root, BOX_CONFIG), 'utf8'));
      expect(cfg.gateway.id).toBe(V);
      expect(cfg.mqtt).toMatchObject({
        username: `gw-${V}`,
        password_file: 'mqtt.secret',
        ca_file: 'mqtt-ca.pem',
      });
      expect(readFileSync(join(root, 'etc/kampung-gateway/mqtt.secret'), 'utf8')).toBe(
        readFileSync(join(out, 'villages', V, 'mqtt.secret'), 'utf8'),
      );

      const again = await fetchInto(stagedBox('box1b'), c, '--ca', pki.caFile);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/already used; ask for a new one/);
      expect(await getBundle(c.url, readFileSync(pki.caFile, 'utf8'), c.fetch_code)).toBe(410);
    });

    it('an expired code is refused', async () => {
      const c = await issue(V);
      await queryStore(
        store,
        `UPDATE bundle_codes SET expires_ms = 1000 WHERE used_ms IS NULL AND code = '${V}'`,
      );
      const r = await fetchInto(stagedBox('box2'), c, '--ca', pki.caFile);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/expired; ask for a new one/);
    });

    it('the code from stdin (--code -), or on the command line with a warning that ps shows it; never echoed', async () => {
      const c = await issue(V);
      const piped = await box(
        [
          '--from',
          c.url,
          '--code',
          '-',
          '--ca',
          pki.caFile,
          '--root',
          stagedBox('box4'),
          '--config',
          BOX_CONFIG,
        ],
        `${c.fetch_code}\n`,
      );
      expect(piped.stderr).toBe('');
      expect(piped.code).toBe(0);
      const d = await issue(V);
      const argv = await box([
        '--from',
        d.url,
        '--code',
        d.fetch_code,
        '--ca',
        pki.caFile,
        '--root',
        stagedBox('box5'),
        '--config',
        BOX_CONFIG,
      ]);
      expect(argv.code).toBe(0);
      expect(argv.stderr).toMatch(
        /^warning: --code shows the one-time code .*\(ps, shell history\); use --code-file F or --code - \(stdin\)\n$/,
      );
      // Neither way prints the code; an empty stdin or a missing file is refused, not sent.
      const empty = await box(
        ['--from', d.url, '--code', '-', '--ca', pki.caFile, '--root', stagedBox('box6')],
        '',
      );
      expect(empty.code).toBe(2);
      const missing = await box(['--from', d.url, '--code-file', join(tmp.path, 'nope'), '--ca', pki.caFile]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('cannot read the one-time code');
      const both = await box(['--from', d.url, '--code', '-', '--code-file', 'x', '--ca', pki.caFile]);
      expect(both.code).toBe(2);
      for (const r of [piped, argv, empty, missing, both])
        for (const code of [c.fetch_code, d.fetch_code]) {
          expect(r.stdout + r.stderr).not.toContain(code);
          expect(r.stdout + r.stderr).not.toContain(code.replace(/-/g, ''));
        }
    });

    it('a wrong CA or fingerprint is refused before anything is sent; the right fingerprint then works', async () => {
      const c = await issue(V);
      const wrongCa = await fetchInto(stagedBox('box3'), c, '--ca', other.caFile);
      expect(wrongCa.code).toBe(1);
      expect(wrongCa.stderr).toMatch(/not trusted by the pinned CA/);
      const wrongFp = new X509Certificate(readFileSync(other.caFile)).fingerprint256;
      const byWrongFp = await fetchInto(stagedBox('box3'), c, '--fingerprint', wrongFp);
      expect(byWrongFp.code).toBe(1);
      expect(byWrongFp.stderr).toMatch(/is not the regency/);
      // Neither attempt reached the route, so the code is still good.
      const fp = new X509Certificate(readFileSync(pki.caFile)).fingerprint256;
      const ok = await fetchInto(stagedBox('box3'), c, '--fingerprint', fp);
      expect(ok.stderr).toBe('');
      expect(ok.code).toBe(0);
    });

    it('guessing is throttled per address and per village: 5 wrong codes, then 429 even for the right one', async () => {
      const c = await issue(W);
      const ca = readFileSync(pki.caFile, 'utf8');
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++)
        statuses.push(await getBundle(c.url, ca, `AAAAA-BBBBB-CCCC${i + 2}`, '127.0.0.9'));
      expect(statuses).toEqual([401, 401, 401, 401, 401]);
      expect(await getBundle(c.url, ca, c.fetch_code, '127.0.0.9')).toBe(429);
      // Another address, the right code: the village itself is blocked for now.
      expect(await getBundle(c.url, ca, c.fetch_code, '127.0.0.10')).toBe(429);
    });

    it('every issue, fetch and refusal is audited; no code or secret reaches the log', async () => {
      const rows = await queryStore<{ code: string; event: string; detail: string; source: string }>(
        store,
        'SELECT code, event, detail, source FROM provision_audit ORDER BY id',
      );
      const v = rows
        .filter((r) => r.code === V && ['issued', 'fetched', 'refused'].includes(r.event))
        .map((r) => `${r.event}:${r.event === 'issued' ? '' : r.detail}`);
      expect(v).toEqual([
        'issued:',
        'fetched:bundle served',
        'refused:used',
        'refused:used',
        'issued:',
        'refused:expired',
        'issued:',
        'fetched:bundle served',
        'issued:',
        'fetched:bundle served',
        'issued:',
        'fetched:bundle served',
      ]);
      // Each `regency provision` of V was a rotation, audited beside the codes.
      expect(rows.filter((r) => r.code === V).map((r) => r.event)).toContain('rotating');
      const w = rows.filter((r) => r.code === W).map((r) => `${r.event}:${r.detail}`);
      expect(w.filter((x) => x === 'refused:wrong')).toHaveLength(5);
      expect(w.filter((x) => x === 'refused:throttled')).toHaveLength(2);
      expect(rows.find((r) => r.event === 'fetched')?.source).toBe('127.0.0.1');
      const stored = await queryStore<{ hash: string }>(store, 'SELECT hash FROM bundle_codes');
      expect(stored.every((r) => /^[0-9a-f]{64}$/.test(r.hash))).toBe(true);
      const logText = JSON.stringify(daemon.logs) + daemon.stderr;
      expect(logText).toContain('bundle fetched with a one-time code');
      const secret = readFileSync(join(out, 'villages', V, 'mqtt.secret'), 'utf8').trim();
      for (const s of [...codesSeen, ...codesSeen.map((x) => x.replace(/-/g, '')), secret])
        expect(logText).not.toContain(s);
    });
  },
);
