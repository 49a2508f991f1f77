import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { validateRegencyConfigText } from '../../src/regency/config.js';
import { openRegencyDb } from '../../src/regency/store/open-db.js';
import { TestBroker } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/net.js';
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

const ROUNDS = 15;

describe.each(DIALECTS)('kill -9 of the collector mid-stream, 3 times (%s)', (dialect) => {
  const tmp = tempDir('kgw-regency-crash-');
  const broker = new TestBroker();
  const store = new TestStore(dialect, tmp.path);
  const pub = new VillagePublisher();
  let daemon: RegencyDaemon;
  let config: Record<string, unknown>;

  beforeAll(async () => {
    await broker.start();
    await store.create();
    config = regencyConfig(store, broker.url);
    daemon = new RegencyDaemon(`${tmp.path}/regency`, config);
    await daemon.start();
    await pub.connect(broker.url);
  });
  afterAll(async () => {
    await pub.close();
    await daemon?.kill();
    await broker.dispose();
    await store.drop();
    tmp.cleanup();
  });

  it('loses nothing the broker accepted: every envelope stored exactly once, no seq gap', async () => {
    const codes = await villageCodes(203);
    expect(codes.length).toBe(203);
    // Rounds of one envelope per village (health and events), through the kills.
    let rounds = 0;
    const round = async () => {
      const k = rounds % 3 === 0 ? 'health' : 'event';
      rounds++;
      await Promise.all(codes.map((gw) => pub.publish(pub.envelope(gw, k), k)));
    };
    let kills = 0;
    for (let i = 1; i <= 3; i++) {
      await round();
      await round();
      // Mid-stream, with the store held: the collector has received messages it cannot
      // commit yet (so has not acknowledged), a commit is in flight, and a round is still
      // being published when it dies.
      const release = await store.lockWrites();
      await round();
      const inFlight = round();
      await daemon.kill('SIGKILL');
      kills++;
      await inFlight;
      await release();
      await daemon.start();
    }
    while (rounds < ROUNDS) await round();
    const total = rounds * codes.length;
    expect(kills).toBe(3);
    expect(pub.acked.size).toBe(total);

    const status = async () => {
      const r = await regencyCli(['status', '--json', '--config', daemon.configPath]);
      return JSON.parse(r.out) as { messages: number; seq_gaps: number; reused: number; duplicates: number };
    };
    await waitFor(async () => (await status()).messages >= total, 60_000, 200);
    await daemon.stop();
    const s = await status();
    expect(s).toMatchObject({ messages: total, seq_gaps: 0, reused: 0 });

    const parsed = validateRegencyConfigText(stringify(config), `${tmp.path}/c.yaml`);
    if (!parsed.ok) throw new Error('config');
    const { db } = await openRegencyDb(parsed.config, pino({ level: 'silent' }));
    try {
      const ids = new Set((await db.selectFrom('messages').select('id').execute()).map((r) => r.id));
      expect(ids.size).toBe(total);
      const missing = [...pub.acked].filter((id) => !ids.has(id));
      expect(missing).toEqual([]);
      const gaps = await db.selectFrom('seq_gaps').selectAll().execute();
      expect(gaps).toEqual([]);
      const perVillage = await db
        .selectFrom('ledger_days')
        .select([
          'gw',
          (eb) => eb.fn.sum<number>('messages').as('n'),
          (eb) => eb.fn.max<number>('max_seq').as('max'),
        ])
        .groupBy('gw')
        .execute();
      expect(perVillage.length).toBe(203);
      for (const v of perVillage) expect([v.gw, Number(v.n), Number(v.max)]).toEqual([v.gw, rounds, rounds]);
    } finally {
      await db.destroy();
    }
    // Redeliveries after each kill show up as duplicates, never as a second copy.
    console.log(`${dialect}: ${total} envelopes, ${s.duplicates} redelivered duplicates after 3 kills`);
  }, 180_000);
});
