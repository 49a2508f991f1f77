import { execFile } from 'node:child_process';
import { pbkdf2Sync, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { Scheduler } from '../../src/core/scheduler.js';
import { validateRegencyConfigText } from '../../src/regency/config.js';
import { CredentialsRepo } from '../../src/regency/provision/credentials-repo.js';
import { GraceSweeper } from '../../src/regency/provision/grace-sweeper.js';
import { Provisioner } from '../../src/regency/provision/provisioner.js';
import { bundleDir, bundleIdentity } from '../../src/regency/provision/village-bundle.js';
import { type OpenedDb, openRegencyDb } from '../../src/regency/store/open-db.js';
import { VillageRegistry } from '../../src/regency/villages.js';
import { FakeClock } from '../helpers/fake-clock.js';
import type { TestBroker } from '../helpers/mosquitto.js';
import { freePort, waitFor } from '../helpers/net.js';
import { makeTestPki, type TestPki } from '../helpers/tls.js';
import { tempDir } from '../helpers/tmp.js';
import { DIALECTS, regencyConfig, TestStore } from './helpers.js';
import { certListener, PREFIX, provisionedBroker, tryConnect } from './provision-kit.js';

const run = promisify(execFile);
const P = PREFIX;
const GRACE_S = 3600;

interface Identity {
  username: string;
  secret: string;
  cert: Buffer;
  key: Buffer;
}

describe.each(DIALECTS)('rotation with a grace on a real Mosquitto (%s store)', (dialect) => {
  const tmp = tempDir('kgw-rotation-');
  const store = new TestStore(dialect, tmp.path);
  const out = join(tmp.path, 'out');
  const clock = new FakeClock();
  const registry = VillageRegistry.load(undefined);
  const [A, B] = registry.all().map((v) => v.code) as [string, string];
  let pki: TestPki;
  let broker: TestBroker;
  let certPort = 0;
  let opened: OpenedDb;
  let credentials: CredentialsRepo;
  let oldA: Identity;

  /** The regency's side as `regency provision` and `regency run` build it, on the fake clock. */
  const provisioner = (reload: boolean, source = 'cli') => {
    const raw = {
      ...regencyConfig(store, broker.url),
      mqtt: { url: broker.url, username: 'regency-collector', topic_prefix: P },
      provision: {
        gateway_url: broker.tlsUrl,
        ca_file: pki.caFile,
        cert_url: `mqtts://127.0.0.1:${certPort}`,
        rotation_grace_s: GRACE_S,
        ...(reload ? { broker_reload: ['kill', '-HUP', String(broker.pid)] } : {}),
      },
    };
    const r = validateRegencyConfigText(stringify(raw), join(tmp.path, 'regency.yaml'));
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    return new Provisioner({ config: r.config, registry, credentials, wallMs: () => clock.wallMs(), source });
  };
  const identity = (code: string): Identity => {
    const dir = bundleDir(out, code);
    const id = bundleIdentity(dir);
    if (!id) throw new Error(`no bundle for ${code}`);
    return { ...id, cert: readFileSync(join(dir, 'client.pem')), key: readFileSync(join(dir, 'client.key')) };
  };
  const withPassword = async (id: Identity) =>
    tryConnect(broker.tlsUrl, {
      username: id.username,
      password: id.secret,
      ca: readFileSync(pki.caFile),
      clientId: `p-${Math.random()}`,
    });
  const withCert = async (id: Identity) =>
    tryConnect(`mqtts://127.0.0.1:${certPort}`, {
      cert: id.cert,
      key: id.key,
      ca: readFileSync(pki.caFile),
      clientId: `c-${Math.random()}`,
    });
  /** True when the identity connects (and the session is closed again). */
  const works = async (how: (id: Identity) => Promise<{ client?: MqttClient }>, id: Identity) => {
    const r = await how(id);
    r.client?.end(true);
    return r.client !== undefined;
  };
  const crl = async () =>
    (await run('openssl', ['crl', '-noout', '-text', '-in', join(out, 'mosquitto', 'crl.pem')])).stdout;
  const serialOf = (id: Identity) => new X509Certificate(id.cert).serialNumber.toUpperCase();
  const audit = async (code: string) =>
    (
      await opened.db
        .selectFrom('provision_audit')
        .select(['event', 'source', 'detail'])
        .where('code', '=', code)
        .orderBy('id')
        .execute()
    ).map((r) => `${r.event} ${r.source}`);

  beforeAll(async () => {
    await store.create();
    pki = await makeTestPki(tmp.path);
    certPort = await freePort();
    broker = await provisionedBroker(out, { tls: pki, extraConfig: certListener(certPort, out, pki) });
    const r = validateRegencyConfigText(
      stringify(regencyConfig(store, broker.url)),
      join(tmp.path, 'regency.yaml'),
    );
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    opened = await openRegencyDb(r.config, pino({ level: 'silent' }));
    credentials = new CredentialsRepo({ db: opened.db });
    const first = await provisioner(false).provision([A, B], out, { cert: true });
    expect(first.villages.map((v) => [v.action, v.grace_until])).toEqual([
      ['created', null],
      ['created', null],
    ]);
    await broker.start();
  }, 60_000);

  afterAll(async () => {
    await broker?.dispose();
    await opened?.db.destroy();
    await store.drop();
    tmp.cleanup();
  });

  it('during the grace the old and the new identity both connect, by password and by certificate', async () => {
    const old = identity(A);
    expect(await works(withPassword, old)).toBe(true);
    const r = await provisioner(true).provision([A], out, { cert: true });
    expect(r.reload).toBe('reloaded');
    expect(r.villages[0]).toMatchObject({
      action: 'rotated',
      username: `gw-${A}.2`,
      grace_until: new Date(clock.wallMs() + GRACE_S * 1000).toISOString(),
    });
    const fresh = identity(A);
    expect(fresh.username).toBe(`gw-${A}.2`);
    await waitFor(() => works(withPassword, fresh), 10_000);
    expect(await works(withCert, fresh)).toBe(true);
    expect(await works(withPassword, old)).toBe(true);
    expect(await works(withCert, old)).toBe(true);
    expect(await crl()).not.toContain(serialOf(old));
    oldA = old;
  });

  it('confirmed: the old secret and the old certificate are refused once the broker reloads (SIGHUP, no restart)', async () => {
    const fresh = identity(A);
    const pid = broker.pid;
    // Confirmed without a reload command: the files change, the running broker has not read them.
    const c = await provisioner(false).confirm(A, out);
    expect(c).toEqual({ username: `gw-${A}.2`, retired: [`gw-${A}`], reload: 'manual' });
    expect(readFileSync(join(out, 'mosquitto', 'passwd'), 'utf8')).not.toMatch(new RegExp(`^gw-${A}:`, 'm'));
    expect(await crl()).toContain(`Serial Number: ${serialOf(oldA)}`);
    expect(await works(withCert, oldA)).toBe(true);
    expect(await works(withPassword, oldA)).toBe(true);
    // SIGHUP: Mosquitto reads the password file, the ACL and the CRL again.
    broker.reload();
    await waitFor(async () => !(await works(withPassword, oldA)), 10_000);
    expect(await works(withCert, oldA)).toBe(false);
    expect(broker.pid).toBe(pid);
    expect(await works(withPassword, fresh)).toBe(true);
    expect(await works(withCert, fresh)).toBe(true);
    expect(await works(withPassword, identity(B))).toBe(true);
    expect(await audit(A)).toEqual(['created cli', 'rotating cli', 'confirmed cli']);
  });

  it('not confirmed: when the grace is over (fake clock) the sweeper retires the old identity and reloads the broker', async () => {
    const old = identity(B);
    await provisioner(true).provision([B], out, { cert: true });
    const fresh = identity(B);
    await waitFor(() => works(withPassword, fresh), 10_000);
    const sweeper = new GraceSweeper({
      provisioner: provisioner(true, 'regency'),
      out,
      scheduler: new Scheduler({ clock, log: pino({ level: 'silent' }) }),
      log: pino({ level: 'silent' }),
    });
    clock.advance((GRACE_S - 1) * 1000);
    await sweeper.sweep();
    expect(await works(withPassword, old)).toBe(true);
    expect(await works(withCert, old)).toBe(true);
    clock.advance(2000);
    await sweeper.sweep();
    await waitFor(async () => !(await works(withPassword, old)), 10_000);
    expect(await works(withCert, old)).toBe(false);
    expect(await works(withPassword, fresh)).toBe(true);
    expect(await works(withCert, fresh)).toBe(true);
    expect(await audit(B)).toEqual(['created cli', 'rotating cli', 'grace-ended regency']);
    expect((await credentials.get(`gw-${B}`))?.retired_ms).toBe(clock.wallMs());
  });

  it('the EMQX import files follow: the retired names listed to forget, the live ones importable with their PBKDF2 hashes', () => {
    const emqx = (f: string) => readFileSync(join(out, 'emqx', f), 'utf8');
    expect(emqx('revoked-users.txt').trim().split('\n').sort()).toEqual([`gw-${A}`, `gw-${B}`]);
    const users = JSON.parse(emqx('users.json')) as Array<Record<string, unknown>>;
    expect(users.map((u) => u.user_id).sort()).toEqual([`gw-${A}.2`, `gw-${B}.2`, 'regency-collector']);
    const csv = emqx('users.csv').trim().split('\n');
    expect(csv[0]).toBe('user_id,password_hash,salt,is_superuser');
    expect(csv.length).toBe(users.length + 1);
    for (const u of users) {
      expect(Object.keys(u).sort()).toEqual(['is_superuser', 'password_hash', 'salt', 'user_id']);
      expect(u).toMatchObject({ is_superuser: false, salt: expect.stringMatching(/^[A-Za-z0-9_-]{12}$/) });
      expect(u.password_hash).toMatch(/^[0-9a-f]{128}$/);
    }
    // What EMQX computes (authn.conf: pbkdf2, sha512, 101 iterations, 64 bytes) matches the bundle's secret.
    const a = users.find((u) => u.user_id === `gw-${A}.2`) as { salt: string; password_hash: string };
    expect(pbkdf2Sync(identity(A).secret, a.salt, 101, 64, 'sha512').toString('hex')).toBe(a.password_hash);
    expect(emqx('authn.conf')).toContain('iterations = 101, dk_length = 64');
    const authz = JSON.parse(emqx('authz-users.json')) as Array<{
      username: string;
      rules: Array<{ permission: string; action: string; topic: string }>;
    }>;
    expect(authz.map((u) => u.username).sort()).toEqual(users.map((u) => u.user_id).sort());
    for (const u of authz)
      for (const r of u.rules) {
        expect(['allow', 'deny']).toContain(r.permission);
        expect(['publish', 'subscribe', 'all']).toContain(r.action);
      }
    expect(authz.find((u) => u.username === `gw-${A}.2`)?.rules).toContainEqual({
      permission: 'allow',
      action: 'subscribe',
      topic: `${P}/${A}/cmd/+`,
    });
  });
});
