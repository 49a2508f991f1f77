import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLiveSnapshot } from '../../src/store/live-snapshot.js';
import { TestDaemon } from '../helpers/daemon.js';
import { TestBroker } from '../helpers/mosquitto.js';
import { freePort, sleep, waitFor, waitForPort } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';

function openssl(cwd: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd, stdio: 'ignore' });
}

/** A throwaway CA and a server certificate for 127.0.0.1, made with openssl at test time. */
function makeCa(dir: string, name: string): void {
  openssl(
    dir,
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.pem`,
  );
}

describe('TLS and credentials', () => {
  const tmp = tempDir('kgw-tls-');
  const dir = tmp.path;
  let broker: TestBroker;
  let tlsPort = 0;
  let mtlsPort = 0;

  beforeAll(async () => {
    makeCa(dir, 'ca');
    makeCa(dir, 'wrongca');
    openssl(
      dir,
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=127.0.0.1',
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
    );
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
    openssl(
      dir,
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      'san.ext',
      '-out',
      'server.pem',
    );
    // A client certificate for the mutual-TLS listener.
    openssl(
      dir,
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=gw-3510170012',
      '-keyout',
      'client.key',
      '-out',
      'client.csr',
    );
    openssl(
      dir,
      'x509',
      '-req',
      '-in',
      'client.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-out',
      'client.pem',
    );
    writeFileSync(join(dir, 'passwd'), '');
    execFileSync('mosquitto_passwd', ['-b', join(dir, 'passwd'), 'gw-3510170012', 's3cret-pass']);
    writeFileSync(join(dir, 'mqtt.secret'), 's3cret-pass\n');
    tlsPort = await freePort();
    mtlsPort = await freePort();
    broker = new TestBroker({
      allowAnonymous: false,
      extraConfig: [
        `password_file ${join(dir, 'passwd')}`,
        `listener ${tlsPort} 127.0.0.1`,
        `cafile ${join(dir, 'ca.pem')}`,
        `certfile ${join(dir, 'server.pem')}`,
        `keyfile ${join(dir, 'server.key')}`,
        `listener ${mtlsPort} 127.0.0.1`,
        `cafile ${join(dir, 'ca.pem')}`,
        `certfile ${join(dir, 'server.pem')}`,
        `keyfile ${join(dir, 'server.key')}`,
        'require_certificate true',
      ],
    });
    await broker.start();
    await waitForPort(tlsPort);
    await waitForPort(mtlsPort);
  });
  afterAll(async () => {
    await broker.dispose();
    tmp.cleanup();
  });

  const mqttConfig = (ca: string) => ({
    url: `mqtts://127.0.0.1:${tlsPort}`,
    username: 'gw-3510170012',
    password_file: join(dir, 'mqtt.secret'),
    ca_file: join(dir, ca),
    connect_delay_max_s: 0,
    reconnect_min_s: 0.5,
    reconnect_max_s: 300,
  });

  it('connects with the right CA and the password from password_file', async () => {
    const daemon = await TestDaemon.start({ config: { mqtt: mqttConfig('ca.pem') } });
    try {
      await daemon.waitForLog((l) => l.msg === 'mqtt: connected', 10_000);
      // The password never reaches the log.
      expect(JSON.stringify(daemon.logs)).not.toContain('s3cret-pass');
    } finally {
      await daemon.dispose();
    }
  });

  it('a wrong CA is refused with a clear error and no tight loop', async () => {
    const daemon = await TestDaemon.start({
      config: { mqtt: { ...mqttConfig('wrongca.pem'), health_interval_s: 10 } },
    });
    try {
      // 15 s instead of the 60 s to keep the suite fast: with reconnect_min_s 0.5 the
      // full-jitter ceilings are 0.5, 1, 2, 4, 8, 16 s..., so about 6 attempts are expected in
      // 15 s (about 8 in 60 s) where a fixed 1 s reconnect would make 15 and a tight loop hundreds.
      await sleep(15_000);
      const attempts = daemon.logs.filter((l) => l.msg === 'mqtt: connecting').length;
      expect(attempts).toBeGreaterThanOrEqual(2);
      expect(attempts).toBeLessThanOrEqual(12);
      const err = daemon.logs.find((l) => String(l.msg).includes('TLS certificate rejected'));
      expect(err?.level).toBe('error');
      expect(err?.code).toBeTypeOf('string');
      expect(daemon.logs.some((l) => l.msg === 'mqtt: connected')).toBe(false);
      // The outbox status section of the live snapshot explains it too (what `kampung-gw status` shows).
      const saved = readLiveSnapshot(join(daemon.dataDir, 'run')).outbox as
        | { value: { connected: boolean; last_error: string } }
        | undefined;
      const db = new Database(join(daemon.dataDir, 'gateway.db'), { readonly: true });
      // Meanwhile the health timer kept queueing samples for later (first one within 10 s).
      const health = db.prepare("SELECT COUNT(*) AS n FROM outbox WHERE class = 'health'").get() as {
        n: number;
      };
      expect(health.n).toBeGreaterThanOrEqual(1);
      db.close();
      expect(saved?.value.connected).toBe(false);
      expect(saved?.value.last_error).toContain(String(err?.code));
    } finally {
      await daemon.dispose();
    }
  }, 30_000);

  it('mutual TLS: cert_file/key_file are presented; without them the broker refuses', async () => {
    const mtls = { ...mqttConfig('ca.pem'), url: `mqtts://127.0.0.1:${mtlsPort}` };
    const withCert = await TestDaemon.start({
      config: { mqtt: { ...mtls, cert_file: join(dir, 'client.pem'), key_file: join(dir, 'client.key') } },
    });
    const without = await TestDaemon.start({ config: { mqtt: mtls } });
    try {
      await withCert.waitForLog((l) => l.msg === 'mqtt: connected', 10_000);
      await without.waitForLog((l) => l.msg === 'mqtt: disconnected; reconnect scheduled', 10_000);
      expect(without.logs.some((l) => l.msg === 'mqtt: connected')).toBe(false);
    } finally {
      await withCert.dispose();
      await without.dispose();
    }
  });

  it('a wrong password is refused (not authorised) and retried with backoff', async () => {
    writeFileSync(join(dir, 'bad.secret'), 'nope\n');
    const daemon = await TestDaemon.start({
      config: { mqtt: { ...mqttConfig('ca.pem'), password_file: join(dir, 'bad.secret') } },
    });
    try {
      await waitFor(() => daemon.logs.filter((l) => l.msg === 'mqtt: connecting').length >= 2, 10_000);
      expect(daemon.logs.some((l) => l.msg === 'mqtt: connected')).toBe(false);
      expect(daemon.logs.some((l) => l.msg === 'mqtt: connection error')).toBe(true);
    } finally {
      await daemon.dispose();
    }
  });
});
