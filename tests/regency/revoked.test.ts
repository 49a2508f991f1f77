import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetVillage } from '../../src/regency/fleet.js';
import type { RegencyStatus } from '../../src/regency/status.js';
import { TestBroker } from '../helpers/mosquitto.js';
import { sleep, waitFor } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';
import {
  DIALECTS,
  RegencyDaemon,
  regencyCli,
  regencyConfig,
  TestStore,
  VillagePublisher,
  villageCodes,
} from './helpers.js';
import { linkState } from './seed.js';

/** The config's least: the silence test waits this long once (SQLite only; it is collector memory). */
const SILENT_AFTER_S = 10;

type QuarantineRow = { topic: string; reason: string; detail: string; payload: string };

/** The quarantine table as stored (SQLite file or the PostgreSQL test database). */
async function quarantineRows(store: TestStore): Promise<QuarantineRow[]> {
  const q = 'SELECT topic, reason, detail, payload FROM quarantine ORDER BY id';
  if (store.dialect === 'sqlite') {
    const db = new Database(join(store.dataDir, 'regency.db'), { readonly: true });
    try {
      return db.prepare(q).all() as QuarantineRow[];
    } finally {
      db.close();
    }
  }
  const c = new pg.Client({ connectionString: store.url });
  await c.connect();
  try {
    return (await c.query<QuarantineRow>(q)).rows;
  } finally {
    await c.end();
  }
}

/*
 * The broker here lets anyone in (as a broker not yet reloaded, or a session that outlived the
 * revocation, would): the collector alone must refuse what a revoked village still sends.
 */
describe.each(DIALECTS)('a revoked village is quarantined by the collector and marked (%s)', (dialect) => {
  const tmp = tempDir('kgw-revoked-');
  const broker = new TestBroker();
  const store = new TestStore(dialect, tmp.path);
  const out = join(tmp.path, 'provision');
  const pub = new VillagePublisher();
  let daemon: RegencyDaemon;
  let A = '';
  let B = '';

  const cli = async (...args: string[]) => {
    const r = await regencyCli([...args, '--out', out, '--config', daemon.configPath]);
    if (r.code !== 0) throw new Error(`${args.join(' ')}: ${r.err}`);
    return r.out;
  };
  const status = async () => {
    const r = await regencyCli(['status', '--json', '--config', daemon.configPath]);
    if (r.code !== 0) throw new Error(r.err);
    return JSON.parse(r.out) as RegencyStatus;
  };
  const tile = async (code: string) =>
    (await daemon.http<FleetVillage[]>('/api/v1/fleet')).body.find((v) => v.code === code) as FleetVillage;

  beforeAll(async () => {
    [A, B] = (await villageCodes(2)) as [string, string];
    await broker.start();
    await store.create();
    daemon = new RegencyDaemon(`${tmp.path}/regency`, {
      ...regencyConfig(store, broker.url),
      silent_after_s: SILENT_AFTER_S,
    });
    await daemon.start();
    await daemon.login();
    await pub.connect(broker.url);
    await cli('provision', A, B);
  }, 60_000);
  afterAll(async () => {
    await pub.close();
    await daemon?.kill();
    await broker.dispose();
    await store.drop();
    tmp.cleanup();
  });

  it('stores both villages until one is revoked; then its envelopes and retained state go to quarantine', async () => {
    await pub.raw(`kampung/v1/${A}/link`, linkState('up', null, Date.now()), true);
    await pub.publish(pub.envelope(A, 'health'), 'health');
    await pub.publish(pub.envelope(B, 'health'), 'health');
    await waitFor(async () => (await status()).messages === 2, 15_000);
    expect(await status()).toMatchObject({ quarantined: 0, revoked: 0 });
    expect((await tile(A)).revoked).toBeNull();

    const revokedAt = Date.now();
    expect(await cli('revoke', A)).toContain(`${A}: revoked`);
    // What a stolen box, still connected, keeps sending: live envelopes, a forged outage state.
    await pub.publish(pub.envelope(A, 'health'), 'health');
    await pub.publish(pub.envelope(A, 'event'), 'event');
    await pub.raw(`kampung/v1/${A}/link`, linkState('down', 'isp', Date.now()), true);
    await pub.publish(pub.envelope(B, 'health'), 'health');
    await waitFor(async () => (await status()).quarantined === 3, 15_000);
    const s = await status();
    expect(s).toMatchObject({ messages: 3, quarantined: 3, revoked: 1 });

    const rows = await quarantineRows(store);
    expect(rows.map((r) => [r.topic, r.reason])).toEqual([
      [`kampung/v1/${A}/health`, 'revoked'],
      [`kampung/v1/${A}/event`, 'revoked'],
      [`kampung/v1/${A}/link`, 'revoked'],
    ]);
    expect(rows[0]?.detail).toMatch(new RegExp(`^village ${A} revoked at \\d{4}-`));
    expect(JSON.parse(rows[2]?.payload ?? '{}')).toMatchObject({ verdict: 'down', fault_layer: 'isp' });

    // The wall keeps the state it had (the forged "down" never landed) and marks the village.
    const a = await tile(A);
    expect(a.state).not.toBe('down');
    expect(Date.parse(a.revoked ?? '')).toBeGreaterThanOrEqual(revokedAt - 1000);
    expect((await tile(B)).revoked).toBeNull();
    const detail = await daemon.http<{ revoked: string | null; state: string }>(`/api/v1/villages/${A}`);
    expect(detail.status).toBe(200);
    expect(detail.body.revoked).toBe(a.revoked);
    const human = await regencyCli(['status', '--config', daemon.configPath]);
    expect(human.out).toContain('dicabut/revoked 1');
    expect((await daemon.http('/metrics')).text).toMatch(/^kampung_regency_villages_revoked 1$/m);
  });

  it.runIf(dialect === 'sqlite')(
    "a revoked village's messages do not keep it alive: it turns silent while the other stays online",
    async () => {
      const until = Date.now() + (SILENT_AFTER_S + 1.5) * 1000;
      while (Date.now() < until) {
        await pub.publish(pub.envelope(A, 'health'), 'health');
        await pub.publish(pub.envelope(B, 'health'), 'health');
        await sleep(1000);
      }
      expect((await tile(A)).state).toBe('silent');
      expect((await tile(B)).state).toBe('online');
    },
    30_000,
  );

  it('provisioning the village again (a new box) lifts the revocation: its messages are stored again', async () => {
    const before = await status();
    await cli('provision', A);
    await pub.publish(pub.envelope(A, 'health'), 'health');
    await waitFor(async () => (await status()).messages === before.messages + 1, 15_000);
    expect(await status()).toMatchObject({ quarantined: before.quarantined, revoked: 0 });
    expect((await tile(A)).revoked).toBeNull();
    await waitFor(async () => (await tile(A)).state === 'online', 10_000);
  });
});
