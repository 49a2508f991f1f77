import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer as createTcpServer, type Server } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createServer as createTlsServer } from 'node:tls';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfigText } from '../../src/config/loader.js';
import { isGwError } from '../../src/core/errors.js';
import { createProbe } from '../../src/probes/registry.js';
import { type ProbeSpec, probeDetail } from '../../src/probes/spec-schema.js';
import type { ProbeResult } from '../../src/probes/types.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { freePort } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';

const DAY = 86_400_000;
const tmp = tempDir('kgw-tls-');
const log = pino({ level: 'silent' });
const servers: Server[] = [];

/** A CA and two leaves it signed for 30 days: one valid for 127.0.0.1, one for another name only. */
function makeCerts(dir: string) {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '365',
    '-subj',
    '/CN=Kampung Test CA',
  );
  for (const [name, san] of [
    ['leaf', 'subjectAltName=DNS:regency.test,IP:127.0.0.1'],
    ['other', 'subjectAltName=DNS:regency.test'],
  ] as const) {
    writeFileSync(join(dir, `${name}.ext`), `${san}\n`);
    openssl(
      'req',
      '-new',
      ...ec,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      '/CN=regency.test',
    );
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '30',
      '-extfile',
      `${name}.ext`,
    );
  }
}

function listen(server: Server): Promise<number> {
  servers.push(server);
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
}

const tlsServer = (name: string) =>
  listen(
    createTlsServer(
      { key: readFileSync(join(tmp.path, `${name}.key`)), cert: readFileSync(join(tmp.path, `${name}.pem`)) },
      (socket) => socket.end(),
    ),
  );

/** The test moves the wall clock (expiry is judged on it); handshake time stays real. */
function clockAt(wall: number): FakeClock {
  return Object.assign(new FakeClock({ wall }), { monoMs: () => performance.now() });
}

const run = (spec: Omit<ProbeSpec, 'type'>, wall: number, ms = 3000): Promise<ProbeResult> =>
  createProbe({ type: 'tls', ...spec }, { clock: clockAt(wall), log }).run(AbortSignal.timeout(ms));

let goodPort: number;
let otherPort: number;
let notAfter: number;
let caFile: string;

beforeAll(async () => {
  makeCerts(tmp.path);
  caFile = join(tmp.path, 'ca.pem');
  notAfter = Date.parse(new X509Certificate(readFileSync(join(tmp.path, 'leaf.pem'))).validTo);
  goodPort = await tlsServer('leaf');
  otherPort = await tlsServer('other');
});

afterAll(() => {
  for (const s of servers) s.close();
  tmp.cleanup();
});

describe('tls probe', () => {
  it('reports handshake time, days left, subject and issuer of a certificate that verifies', async () => {
    const r = await run({ host: '127.0.0.1', port: goodPort, ca_file: caFile }, notAfter - 20.5 * DAY);
    expect(r.outcome).toBe('ok');
    expect(r.latency_ms).toBeGreaterThan(0);
    expect(r.latency_ms).toBeLessThan(3000);
    expect(r.fields).toMatchObject({
      days_left: 20,
      expiring: false,
      not_after: new Date(notAfter).toISOString(),
      subject_cn: 'regency.test',
      issuer_cn: 'Kampung Test CA',
      tls_error: null,
    });
  });

  it('says expiring within warn_days, still ok', async () => {
    const r = await run(
      { host: '127.0.0.1', port: goodPort, ca_file: caFile, warn_days: 7 },
      notAfter - 3.5 * DAY,
    );
    expect(r.outcome).toBe('ok');
    expect(r.fields).toMatchObject({ days_left: 3, expiring: true });
    // What the status page and doctor show for it.
    expect(probeDetail('tls', r.fields)).toBe('days_left=3 expiring=true');
  });

  it('is a bad response once the certificate has expired by the daemon clock', async () => {
    const r = await run({ host: '127.0.0.1', port: goodPort, ca_file: caFile }, notAfter + DAY);
    expect(r.outcome).toBe('bad_response');
    expect(r.fields).toMatchObject({ days_left: -1, tls_error: 'CERT_HAS_EXPIRED' });
  });

  it('is a bad response when the chain does not verify (no ca_file: the CA is unknown)', async () => {
    const r = await run({ host: '127.0.0.1', port: goodPort }, notAfter - 10 * DAY);
    expect(r.outcome).toBe('bad_response');
    expect(String(r.fields.tls_error)).toMatch(/UNABLE_TO_(GET|VERIFY)|SELF_SIGNED/);
    expect(r.fields.days_left).toBe(10);
  });

  it('is a bad response when the certificate is for another name', async () => {
    const r = await run({ host: '127.0.0.1', port: otherPort, ca_file: caFile }, notAfter - 10 * DAY);
    expect(r.outcome).toBe('bad_response');
    expect(r.fields.tls_error).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('tells refused, silent and non-TLS endpoints apart', async () => {
    const closed = await freePort();
    expect((await run({ host: '127.0.0.1', port: closed }, notAfter)).outcome).toBe('refused');
    const silent = await listen(createTcpServer(() => {}));
    expect((await run({ host: '127.0.0.1', port: silent }, notAfter, 300)).outcome).toBe('timeout');
    const plain = await listen(createTcpServer((s) => s.end('HTTP/1.0 400 Bad Request\r\n\r\n')));
    const r = await run({ host: '127.0.0.1', port: plain }, notAfter);
    expect(r.outcome).toBe('bad_response');
    expect(r.fields.tls_error).toBeTruthy();
  });

  it('is a broken probe when its ca_file cannot be read', async () => {
    const err = await run(
      { host: '127.0.0.1', port: goodPort, ca_file: join(tmp.path, 'gone.pem') },
      notAfter,
    ).catch((e: unknown) => e);
    expect(isGwError(err, 'GW_ERR_PROBE_BROKEN')).toBe(true);
  });

  it('is configured like any probe: host required, ca_file must be readable', () => {
    const text = `
gateway: { id: "3510170012", name: "Desa Kemiren" }
data_dir: ${tmp.path}/data
uplink:
  probes:
    - { name: cert, layer: regency, type: tls, port: 443 }
    - { name: cert2, layer: regency, type: tls, host: regency.test, ca_file: ./nope.pem, warn_days: 400 }
`;
    const r = validateConfigText(text, join(tmp.path, 'config.yaml'));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues.map((i) => i.path)).toEqual(['uplink.probes[1].warn_days']);
    const fixed = validateConfigText(
      text.replace('warn_days: 400', 'warn_days: 14'),
      join(tmp.path, 'c.yaml'),
    );
    expect(fixed.ok ? [] : fixed.issues).toEqual([
      { path: 'uplink.probes[0].host', message: 'required for type "tls"' },
      { path: 'uplink.probes[1].ca_file', message: 'file ./nope.pem is missing or unreadable' },
    ]);
  });
});
