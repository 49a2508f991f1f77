import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { validateRegencyConfigText } from '../../src/regency/config.js';
import { verifyBrokerPassword } from '../../src/regency/provision/broker-hash.js';
import { CredentialsRepo, isActive } from '../../src/regency/provision/credentials-repo.js';
import { OUT_LOCK, withOutLock } from '../../src/regency/provision/out-lock.js';
import { bundleDir, bundleIdentity } from '../../src/regency/provision/village-bundle.js';
import { openRegencyDb } from '../../src/regency/store/open-db.js';
import type { TestBroker } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';
import { writeVillages } from './fixture.js';
import { DIALECTS, regencyConfig, TestStore } from './helpers.js';
import { kgw, PREFIX, provisionedBroker, tryConnect } from './provision-kit.js';

const CODES = Array.from({ length: 12 }, (_, i) => String(3510010001 + i));

describe.each(DIALECTS)('concurrent regency provision runs (%s store, real Mosquitto)', (dialect) => {
  const tmp = tempDir('kgw-prov-lock-');
  const store = new TestStore(dialect, tmp.path);
  const out = join(tmp.path, 'out');
  const configPath = join(tmp.path, 'regency.yaml');
  let broker: TestBroker;

  const provision = (...codes: string[]) =>
    kgw('regency', 'provision', ...codes, '--out', out, '--config', configPath);

  beforeAll(async () => {
    await store.create();
    broker = await provisionedBroker(out);
    const villagesFile = writeVillages(tmp.path, [
      'code,name,kecamatan',
      ...CODES.map((c) => `${c},Desa ${c},Uji`),
    ]);
    writeFileSync(
      configPath,
      stringify({
        ...regencyConfig(store, broker.url),
        regency: { name: 'Kabupaten Uji', villages_file: villagesFile },
        mqtt: { url: broker.url, username: 'regency-collector', topic_prefix: PREFIX },
      }),
    );
    const first = await provision(...CODES);
    expect(first.code, first.stderr).toBe(0);
    await broker.start();
  }, 60_000);

  afterAll(async () => {
    await broker?.dispose();
    await store.drop();
    tmp.cleanup();
  });

  it('two runs at once, on the same and on different villages, both succeed and every bundle holds a valid identity', async () => {
    const half = CODES.slice(0, 6);
    const runs = await Promise.all([provision(...CODES), provision(...CODES), provision(...half)]);
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(out, OUT_LOCK))).toBe(false);

    const parsed = validateRegencyConfigText(
      stringify(regencyConfig(store, broker.url)),
      join(tmp.path, 'check.yaml'),
    );
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    const opened = await openRegencyDb(parsed.config, pino({ level: 'silent' }));
    try {
      const live = (await new CredentialsRepo({ db: opened.db }).all()).filter(isActive);
      broker.reload();
      for (const code of CODES) {
        const id = bundleIdentity(bundleDir(out, code));
        expect(id, code).toBeDefined();
        if (!id) continue;
        const row = live.find((c) => c.username === id.username);
        expect(row && verifyBrokerPassword(id.secret, row), `${code}: ${id.username}`).toBe(true);
        // Four runs rotated the first six, three the rest: the bundle holds the newest.
        expect(id.username).toBe(`gw-${code}.${half.includes(code) ? 4 : 3}`);
        await waitFor(async () => {
          const r = await tryConnect(broker.url, {
            username: id.username,
            password: id.secret,
            clientId: `t-${code}`,
          });
          r.client?.end(true);
          return r.client !== undefined;
        }, 10_000);
      }
    } finally {
      await opened.db.destroy();
    }
  }, 120_000);

  it('a lock left by a dead process is taken over; a live holder is waited for', async () => {
    const dir = join(tmp.path, 'lockdir');
    mkdirSync(dir);
    // A pid no process has: the lock of a run killed with -9.
    writeFileSync(join(dir, OUT_LOCK), '2147483646 1\n');
    expect(await withOutLock(dir, async () => 'taken')).toBe('taken');
    expect(existsSync(join(dir, OUT_LOCK))).toBe(false);
    const order: string[] = [];
    let release: () => void = () => {};
    const held = withOutLock(dir, () => {
      order.push('first in');
      return new Promise<void>((r) => {
        release = () => {
          order.push('first out');
          r();
        };
      });
    });
    const second = withOutLock(dir, async () => {
      order.push('second in');
    });
    await waitFor(async () => order.length === 1, 5000);
    setTimeout(() => release(), 200);
    await Promise.all([held, second]);
    expect(order).toEqual(['first in', 'first out', 'second in']);
  });
});
