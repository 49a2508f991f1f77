import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { validateRegencyConfigText } from '../../src/regency/config.js';
import { verifyBrokerPassword } from '../../src/regency/provision/broker-hash.js';
import {
  type BrokerCredential,
  CredentialsRepo,
  isActive,
} from '../../src/regency/provision/credentials-repo.js';
import { Provisioner } from '../../src/regency/provision/provisioner.js';
import {
  bundleDir,
  bundleIdentity,
  stagedBundleDir,
  writeBundle,
} from '../../src/regency/provision/village-bundle.js';
import { type OpenedDb, openRegencyDb } from '../../src/regency/store/open-db.js';
import { VillageRegistry } from '../../src/regency/villages.js';
import { MAIN_JS } from '../helpers/daemon.js';
import { TestBroker } from '../helpers/mosquitto.js';
import { tempDir } from '../helpers/tmp.js';
import { DIALECTS, regencyConfig, TestStore } from './helpers.js';

const ROUNDS = 4;
const MAX_ROUNDS = 30;

function provisionAll(configPath: string, out: string): ChildProcess {
  return spawn(
    process.execPath,
    [MAIN_JS, 'regency', 'provision', '--all', '--out', out, '--config', configPath],
    {
      stdio: 'ignore',
    },
  );
}

function exited(p: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) resolve(p.exitCode);
    else p.once('exit', (code) => resolve(code));
  });
}

function connects(url: string, username: string, password: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c: MqttClient = mqtt.connect(url, {
      username,
      password,
      clientId: `k-${Math.random()}`,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    c.once('connect', () => {
      c.end(true);
      resolve(true);
    });
    c.once('error', () => {
      c.end(true);
      resolve(false);
    });
    c.once('close', () => resolve(false));
  });
}

describe.each(DIALECTS)('kill -9 of `regency provision --all` mid-rotation (%s store)', (dialect) => {
  const tmp = tempDir('kgw-rot-crash-');
  const store = new TestStore(dialect, tmp.path);
  const out = join(tmp.path, 'out');
  const configPath = join(tmp.path, 'regency.yaml');
  const registry = VillageRegistry.load(undefined);
  const codes = registry.all().map((v) => v.code);
  let opened: OpenedDb;
  let credentials: CredentialsRepo;
  let provisioner: Provisioner;
  /** Each village's identity before the rotations: confirmed, so it must stay valid throughout. */
  const before = new Map<string, { username: string; secret: string }>();
  let fullRunMs = 0;

  beforeAll(async () => {
    await store.create();
    const raw = {
      ...regencyConfig(store, 'mqtt://127.0.0.1:1883'),
      mqtt: { url: 'mqtt://127.0.0.1:1883', username: 'regency-collector', topic_prefix: 'kampung/v1' },
      provision: { rotation_grace_s: 3600 },
    };
    writeFileSync(configPath, stringify(raw));
    const r = validateRegencyConfigText(stringify(raw), configPath);
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    const started = performance.now();
    expect(await exited(provisionAll(configPath, out))).toBe(0);
    fullRunMs = performance.now() - started;
    opened = await openRegencyDb(r.config, pino({ level: 'silent' }));
    credentials = new CredentialsRepo({ db: opened.db });
    provisioner = new Provisioner({ config: r.config, registry, credentials, wallMs: () => Date.now() });
    for (const code of codes) {
      const id = bundleIdentity(bundleDir(out, code));
      if (!id) throw new Error(`no bundle for ${code}`);
      before.set(code, id);
    }
  }, 120_000);

  afterAll(async () => {
    await opened?.db.destroy();
    await store.drop();
    tmp.cleanup();
  });

  const holds = (live: readonly BrokerCredential[], id: { username: string; secret: string }) =>
    live.some((c) => c.username === id.username && verifyBrokerPassword(id.secret, c));

  it('after each kill and the next run: every bundle holds a valid identity, nobody is cut off, the broker files match the store', async () => {
    const hit = { stagedCommitted: 0, stagedNot: 0, pending: 0 };
    const staged = () => hit.stagedCommitted + hit.stagedNot;
    // Random kill points; more rounds (up to MAX_ROUNDS) until one landed on a staged bundle.
    for (let round = 0; round < ROUNDS || (staged() === 0 && round < MAX_ROUNDS); round++) {
      const p = provisionAll(configPath, out);
      const delay = fullRunMs * (0.15 + 0.8 * Math.random());
      await new Promise((r) => setTimeout(r, delay));
      p.kill('SIGKILL');
      await exited(p);

      // What the kill left, judged against the store before anything repairs it.
      const live = (await credentials.all()).filter(isActive);
      for (const name of readdirSync(join(out, 'villages')).filter((n) => n.endsWith('.staged'))) {
        const id = bundleIdentity(join(out, 'villages', name));
        if (id && holds(live, id)) hit.stagedCommitted++;
        else hit.stagedNot++;
      }
      // A box keeps working whatever the kill interrupted: its confirmed identity is valid.
      for (const code of codes)
        expect(holds(live, before.get(code) as { username: string; secret: string })).toBe(true);

      // The next run of any provisioning command (here: what `regency run` does at start).
      await provisioner.reconcile(out);
      const after = (await credentials.all()).filter(isActive);
      expect(readdirSync(join(out, 'villages')).filter((n) => n.startsWith('.'))).toEqual([]);
      for (const code of codes) {
        const mine = after.filter((c) => c.code === code);
        expect(mine.length).toBeGreaterThanOrEqual(1);
        // The first identity and each unconfirmed rotation since (kept until one is confirmed).
        expect(mine.length).toBeLessThanOrEqual(round + 2);
        const bundle = bundleIdentity(bundleDir(out, code));
        expect(bundle && holds(mine, bundle)).toBe(true);
        const pending = mine.find((c) => c.grace_until_ms !== null);
        // The identity awaiting the box is the one its bundle carries (else the grace's end would strand it).
        if (pending) {
          hit.pending++;
          expect(bundle?.username).toBe(pending.username);
        }
        expect(holds(mine, before.get(code) as { username: string; secret: string })).toBe(true);
      }
      const users = readFileSync(join(out, 'mosquitto', 'passwd'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split(':')[0])
        .sort();
      expect(users).toEqual(after.map((c) => c.username).sort());
    }
    console.info(`rotation kill -9 (${dialect}, full run ${Math.round(fullRunMs)} ms):`, hit);
    // The kills landed where it matters: on a staged bundle, and rotations awaiting their box.
    expect(staged()).toBeGreaterThan(0);
    expect(hit.pending).toBeGreaterThan(0);

    // A real broker on the files the recovery wrote: old and new identities of a few villages connect.
    const broker = new TestBroker({
      allowAnonymous: false,
      passwordFile: join(out, 'mosquitto', 'passwd'),
      aclFile: join(out, 'mosquitto', 'acl'),
    });
    try {
      await broker.start();
      for (const code of codes.slice(0, 3)) {
        const old = before.get(code) as { username: string; secret: string };
        const now = bundleIdentity(bundleDir(out, code)) as { username: string; secret: string };
        expect(await connects(broker.url, old.username, old.secret)).toBe(true);
        expect(await connects(broker.url, now.username, now.secret)).toBe(true);
        expect(await connects(broker.url, now.username, `${now.secret}x`)).toBe(false);
      }
    } finally {
      await broker.dispose();
    }
    expect(existsSync(join(out, 'mosquitto', 'acl'))).toBe(true);
  }, 180_000);

  it('each state a kill can leave between staging, commit and the two renames is finished or undone by the next run', async () => {
    const [X, Y, Z, W] = codes.slice(10, 14) as [string, string, string, string];
    const dirs = (...names: string[]) => join(out, 'villages', ...names);
    const idOf = (code: string) =>
      bundleIdentity(bundleDir(out, code)) as { username: string; secret: string };
    await provisioner.reconcile(out);
    const xBefore = idOf(X);
    // Killed before the commit: a staged bundle the store never heard of is dropped.
    writeBundle(stagedBundleDir(out, X), {
      code: X,
      name: '',
      url: 'mqtt://127.0.0.1:1883',
      username: `gw-${X}.99`,
      password: 'never-committed-secret-0123456789',
      topicPrefix: 'kampung/v1',
    });
    // Killed after the commit, before the first rename: the old bundle still in place.
    const rotated = async (code: string) => {
      cpSync(bundleDir(out, code), dirs(`${code}.was`), { recursive: true });
      await provisioner.provision([code], out);
      renameSync(bundleDir(out, code), stagedBundleDir(out, code));
    };
    await rotated(Y);
    renameSync(dirs(`${Y}.was`), bundleDir(out, Y));
    // Between the two renames: the old bundle moved aside, the new one still staged.
    await rotated(Z);
    renameSync(dirs(`${Z}.was`), dirs(`.${Z}.old`));
    // After both renames, before the old one was removed.
    await rotated(W);
    renameSync(stagedBundleDir(out, W), bundleDir(out, W));
    renameSync(dirs(`${W}.was`), dirs(`.${W}.old`));

    await provisioner.reconcile(out);
    expect(readdirSync(join(out, 'villages')).filter((n) => n.startsWith('.') || n.endsWith('.was'))).toEqual(
      [],
    );
    const live = (await credentials.all()).filter(isActive);
    expect(idOf(X)).toEqual(xBefore);
    for (const code of [Y, Z, W]) {
      const pending = live.find((c) => c.code === code && c.grace_until_ms !== null);
      expect(idOf(code).username).toBe(pending?.username);
      expect(holds(live, idOf(code))).toBe(true);
      expect(holds(live, before.get(code) as { username: string; secret: string })).toBe(true);
    }
  });
});
