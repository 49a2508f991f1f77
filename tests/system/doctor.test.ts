import { execFile, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { baseConfig, MAIN_JS } from '../helpers/daemon.js';
import { TestBroker } from '../helpers/mosquitto.js';
import { freePort, waitForPort } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';
import { type DnsResponder, startDnsResponder } from '../probes/fixtures/dns-responder.mjs';

const tmp = tempDir('kgw-doctor-');
const passwdFile = join(tmp.path, 'mosquitto.passwd');
const roMount = join(tmp.path, 'ro');
const pki = join(tmp.path, 'pki');
let broker: TestBroker;
let tlsPort = 0;

/** A throw-away CA and a server certificate for 127.0.0.1, plus an unrelated CA. */
function makePki(): void {
  mkdirSync(pki, { recursive: true });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: pki, stdio: 'ignore' });
  run([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=kgw-test-ca',
  ]);
  run([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'other.key',
    '-out',
    'other.pem',
    '-days',
    '2',
    '-subj',
    '/CN=other-ca',
  ]);
  run(['req', ...ec, '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=127.0.0.1']);
  writeFileSync(join(pki, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  run([
    'x509',
    '-req',
    '-in',
    'srv.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'srv.pem',
    '-days',
    '2',
    '-extfile',
    'ext.cnf',
  ]);
  chmodSync(pki, 0o755);
  for (const f of ['ca.pem', 'srv.pem', 'srv.key', 'other.pem']) chmodSync(join(pki, f), 0o644);
}

function doctor(
  config: Record<string, unknown>,
  extra: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; out: string }> {
  const file = join(tmp.path, `config-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, stringify(config));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [MAIN_JS, 'doctor', '--config', file, ...extra],
      { env: { ...process.env, ...env }, timeout: 30_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, out: stdout + stderr });
      },
    );
  });
}

function setup(name: string, over: { password: string; dataDir?: string }) {
  const dir = join(tmp.path, name);
  mkdirSync(join(dir, 'data'), { recursive: true });
  const secret = join(dir, 'mqtt.secret');
  writeFileSync(secret, `${over.password}\n`, { mode: 0o600 });
  const flag = join(dir, 'synchronized');
  writeFileSync(flag, '');
  return {
    ...baseConfig(dir),
    ...(over.dataDir ? { data_dir: over.dataDir } : {}),
    mqtt: { url: broker.url, username: 'gw-3510170012', password_file: secret },
    system: { timesync_flag: flag, disk_floor_mb: 1 },
  };
}

beforeAll(async () => {
  execFileSync('mosquitto_passwd', ['-c', '-b', passwdFile, 'gw-3510170012', 'rahasia-desa']);
  // mosquitto started as root drops to its own user before reading the password file.
  chmodSync(tmp.path, 0o755);
  chmodSync(passwdFile, 0o644);
  makePki();
  tlsPort = await freePort();
  broker = new TestBroker({
    allowAnonymous: false,
    extraConfig: [
      `password_file ${passwdFile}`,
      `listener ${tlsPort} 127.0.0.1`,
      `cafile ${join(pki, 'ca.pem')}`,
      `certfile ${join(pki, 'srv.pem')}`,
      `keyfile ${join(pki, 'srv.key')}`,
    ],
  });
  await broker.start();
  await waitForPort(tlsPort);
  mkdirSync(roMount, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', roMount]);
});

afterAll(async () => {
  try {
    execFileSync('umount', ['-l', roMount]);
  } catch {
    // already gone
  }
  await broker?.dispose();
  tmp.cleanup();
});

describe('kampung-gw doctor', () => {
  it('a healthy setup: every line ✓ (or skipped), exit 0', async () => {
    const config = {
      ...setup('healthy', { password: 'rahasia-desa' }),
      uplink: { probes: [{ name: 'router', layer: 'lan', type: 'icmp', host: '127.0.0.1' }] },
    };
    const r = await doctor(config);
    // The probe runs, with the daemon's own probe code (lazily loaded by the check).
    expect(r.out).toMatch(/^✓ Probe router \(lan\): ok/m);
    expect(r.out).toMatch(/^✓ Konfigurasi valid/m);
    expect(r.out).toMatch(/^✓ Folder data .* bisa ditulis/m);
    expect(r.out).toMatch(/^✓ fping ada .* bisa ping 127\.0\.0\.1/m);
    expect(r.out).toMatch(/^✓ Broker mqtt:\/\/127\.0\.0\.1:\d+ terjangkau, login diterima/m);
    expect(r.out).toMatch(/^✓ Jam tersinkron \(timesyncd\)/m);
    expect(r.out).toMatch(/^✓ Disk /m);
    expect(r.out).not.toMatch(/^✗/m);
    expect(r.out).toMatch(/^Sehat/m);
    expect(r.code).toBe(0);
  });

  it('a broken setup: missing fping, wrong broker password, read-only data dir → ✗ lines with what to do, exit 1', async () => {
    const config = setup('broken', { password: 'sandi-keliru-77', dataDir: roMount });
    const r = await doctor(config, [], { PATH: '/nonexistent' });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^✗ fping tidak ditemukan/m);
    expect(r.out).toMatch(/→ Pasang: sudo apt install fping/);
    expect(r.out).toMatch(/^✗ Broker .* menolak identitas kotak ini \(gw-3510170012, kode 13[45]/m);
    expect(r.out).toMatch(/^✗ Folder data .* tidak bisa ditulis \(EROFS/m);
    expect(r.out).toMatch(/^✓ Konfigurasi valid/m);
    expect(r.out).toMatch(/^Ada 3 masalah\./m);

    const en = await doctor(config, ['--lang', 'en'], { PATH: '/nonexistent' });
    expect(en.code).toBe(1);
    expect(en.out).toMatch(/^✗ fping not found/m);
    expect(en.out).toMatch(/→ Install it: sudo apt install fping/);
    expect(en.out).toMatch(/^✗ Broker .* refused this box's identity/m);

    const json = await doctor(config, ['--json', '--lang', 'en'], { PATH: '/nonexistent' });
    expect(json.code).toBe(1);
    const parsed = JSON.parse(json.out) as { ok: boolean; checks: Array<{ check: string; status: string }> };
    expect(parsed.ok).toBe(false);
    const status = Object.fromEntries(parsed.checks.map((c) => [c.check, c.status]));
    expect(status).toMatchObject({
      config: 'ok',
      fping: 'fail',
      broker: 'fail',
      data_dir: 'fail',
      clock: 'ok',
    });
    // The password never appears in the report.
    expect(json.out + r.out).not.toContain('sandi-keliru-77');
  });

  it('an invalid config: one ✗ line naming the key, exit 1; a bad --lang is a usage error', async () => {
    const r = await doctor({ gateway: { id: '12', name: 'x' }, uplink: { probes: [] }, devices: [] });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^✗ Konfigurasi .* tidak valid: gateway\.id/m);
    const bad = await doctor(setup('lang', { password: 'rahasia-desa' }), ['--lang', 'fr']);
    expect(bad.code).toBe(2);
  });

  it('TLS: the right CA gives ✓, a CA that did not sign the broker gives a TLS ✗', async () => {
    const base = setup('tls', { password: 'rahasia-desa' });
    const url = `mqtts://127.0.0.1:${tlsPort}`;
    const good = await doctor({ ...base, mqtt: { ...base.mqtt, url, ca_file: join(pki, 'ca.pem') } });
    expect(good.out).toMatch(/^✓ Broker mqtts:\/\/127\.0\.0\.1:\d+ terjangkau, TLS sah, login diterima/m);
    const bad = await doctor({ ...base, mqtt: { ...base.mqtt, url, ca_file: join(pki, 'other.pem') } }, [
      '--lang',
      'en',
    ]);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/^✗ TLS to mqtts:\/\/127\.0\.0\.1:\d+ failed/m);
    expect(bad.out).toMatch(/Check ca_file and the box clock/);
  });

  it('reads the stored passwd (sanity: mosquitto_passwd produced a hashed entry)', () => {
    expect(readFileSync(passwdFile, 'utf8')).toMatch(/^gw-3510170012:\$/);
  });
});

/** Runs doctor and notes when each stdout line arrived, relative to the start. */
function doctorTimed(
  config: Record<string, unknown>,
  extra: string[] = [],
): Promise<{ code: number | null; lines: Array<{ at: number; text: string }>; ms: number }> {
  const file = join(tmp.path, `config-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, stringify(config));
  const t0 = performance.now();
  const child = spawn(process.execPath, [MAIN_JS, 'doctor', '--config', file, ...extra], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: Array<{ at: number; text: string }> = [];
  let buf = '';
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    for (const text of parts) lines.push({ at: performance.now() - t0, text });
  });
  return new Promise((resolve) => {
    child.on('close', (code) => resolve({ code, lines, ms: performance.now() - t0 }));
  });
}

describe('kampung-gw doctor with slow, silent and unresolvable probe targets', () => {
  let dns: DnsResponder;
  let lanServer: import('node:net').Server;
  let lanPort = 0;
  beforeAll(async () => {
    dns = await startDnsResponder('127.0.0.1', 0);
    const { createServer } = await import('node:net');
    lanServer = createServer((s) => s.destroy());
    lanPort = await new Promise<number>((resolve) =>
      lanServer.listen(0, '127.0.0.1', () => resolve((lanServer.address() as { port: number }).port)),
    );
  });
  afterAll(async () => {
    await dns.close();
    lanServer.close();
  });

  const silent = (name: string, layer: string) => ({
    name,
    layer,
    type: 'dns',
    server: '127.0.0.1',
    port: dns.port,
    query: 'silent.banyuwangikab.go.id',
  });

  // Before: probes ran one after another at 4 s each and the 10 s cut of the whole check
  // replaced every line, the LAN ✓ included, with "did not finish"; nothing was printed
  // until the end.
  it('runs probes side by side, each under its own deadline, printing each line as it finishes', async () => {
    const config = {
      ...setup('silent', { password: 'rahasia-desa' }),
      uplink: {
        probes: [
          { name: 'router', layer: 'lan', type: 'tcp', host: '127.0.0.1', port: lanPort },
          silent('dns1', 'dns'),
          silent('dns2', 'dns'),
          silent('dns3', 'internet'),
        ],
      },
    };
    const r = await doctorTimed(config, ['--lang', 'en']);
    const out = r.lines.map((l) => l.text).join('\n');
    expect(r.code).toBe(1);
    expect(out).not.toMatch(/did not finish/);
    const router = r.lines.find((l) => /^✓ Probe router \(lan\): ok/.test(l.text));
    expect(router, out).toBeDefined();
    for (const name of ['dns1', 'dns2', 'dns3'])
      expect(out).toMatch(
        new RegExp(`^✗ Probe ${name} \\(\\w+\\): no answer within 2500 ms \\(timeout\\)`, 'm'),
      );
    // Printed as it finished, well before the silent probes' deadline ended the run.
    expect(r.ms - (router?.at ?? r.ms)).toBeGreaterThan(1500);
    // Side by side: the three 2500 ms deadlines end together, not one after another. Measured
    // between the lines themselves, so a slow process start on a loaded box does not count.
    const silentAt = ['dns1', 'dns2', 'dns3'].map(
      (name) => r.lines.find((l) => l.text.startsWith(`✗ Probe ${name} `))?.at ?? Number.NaN,
    );
    expect(Math.max(...silentAt) - Math.min(...silentAt)).toBeLessThan(1500);
    expect(Math.min(...silentAt) - (router?.at ?? Number.NaN)).toBeGreaterThan(1500);
    // The recap under the summary keeps the ladder order.
    const recap = out.slice(out.indexOf('3 problem(s) found.'));
    expect(recap.indexOf('dns1')).toBeLessThan(recap.indexOf('dns2'));
    expect(recap.indexOf('dns2')).toBeLessThan(recap.indexOf('dns3'));
    // JSON keeps the ladder order too.
    const json = await doctor(config, ['--json']);
    const checks = (JSON.parse(json.out) as { checks: Array<{ check: string }> }).checks.map((c) => c.check);
    expect(checks.filter((c) => c.startsWith('uplink.'))).toEqual([
      'uplink.router',
      'uplink.dns1',
      'uplink.dns2',
      'uplink.dns3',
    ]);
  });

  // Before: the dns probe threw ERR_SOCKET_BAD_PORT and doctor died with exit 70.
  it('reports an unresolvable DNS server name as its own ✗ line, exit 1 (not a crash)', async () => {
    const config = {
      ...setup('unresolved', { password: 'rahasia-desa' }),
      uplink: {
        probes: [
          { name: 'router', layer: 'lan', type: 'tcp', host: '127.0.0.1', port: lanPort },
          {
            name: 'dns',
            layer: 'dns',
            type: 'dns',
            server: 'resolver.nonexistent.invalid',
            query: 'banyuwangikab.go.id',
          },
        ],
      },
    };
    const r = await doctor(config);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^✓ Probe router \(lan\): ok/m);
    expect(r.out).toMatch(/^✗ Probe dns \(dns\): (unreachable|tidak ada jawaban)/m);
  });
});
