import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestBroker } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';
import {
  POSTGRES,
  RegencyDaemon,
  regencyCli,
  regencyConfig,
  TestStore,
  VillagePublisher,
  villageCodes,
} from './helpers.js';

/** PostgreSQL only (shared subscriptions): skipped in the SQLite-only passes. */
const describePg = describe.skipIf(!POSTGRES);

const ROUNDS = 9;

// Scale-out as docs/scale.md describes it: N collectors on one PostgreSQL, subscribed as
// `$share/{group}/…` so the broker splits the stream. Each is killed -9 once, mid-stream.
describePg('three collectors on one shared subscription, each killed -9 once (postgres)', () => {
  const tmp = tempDir('kgw-regency-shared-');
  const broker = new TestBroker();
  const store = new TestStore('postgres', tmp.path);
  const pub = new VillagePublisher();
  const daemons: RegencyDaemon[] = [];

  beforeAll(async () => {
    await broker.start();
    await store.create();
    for (let i = 1; i <= 3; i++) {
      const base = regencyConfig(store, broker.url, { data_dir: join(tmp.path, `data-${i}`) });
      const config = {
        ...base,
        mqtt: { ...base.mqtt, client_id: `kgw-regency-shared-${i}`, shared_group: 'regency' },
      };
      const d = new RegencyDaemon(join(tmp.path, `regency-${i}`), config);
      await d.start();
      daemons.push(d);
    }
    await pub.connect(broker.url);
  });
  afterAll(async () => {
    await pub.close();
    for (const d of daemons) await d.kill();
    await broker.dispose();
    await store.drop();
    tmp.cleanup();
  });

  it('stores every envelope the broker accepted exactly once, with no gap, while the broker splits the stream', async () => {
    const codes = await villageCodes(203);
    let rounds = 0;
    const round = async () => {
      const k = rounds % 3 === 0 ? 'health' : 'event';
      rounds++;
      await Promise.all(codes.map((gw) => pub.publish(pub.envelope(gw, k), k)));
    };
    for (const d of daemons) {
      await round();
      // Killed while a round is on its way: it holds messages it has not acknowledged. The
      // broker keeps them for its session and delivers them when the same client id returns.
      const inFlight = round();
      await d.kill('SIGKILL');
      await inFlight;
      await round();
      await d.start();
    }
    while (rounds < ROUNDS) await round();
    const total = rounds * codes.length;
    expect(pub.acked.size).toBe(total);

    const status = async () => {
      const r = await regencyCli(['status', '--json', '--config', daemons[0]!.configPath]);
      return JSON.parse(r.out) as { messages: number; seq_gaps: number; reused: number; duplicates: number };
    };
    await waitFor(async () => (await status()).messages >= total, 60_000, 200);
    for (const d of daemons) await d.stop();
    const s = await status();
    expect(s).toMatchObject({ messages: total, seq_gaps: 0, reused: 0 });
    // Split, not copied: three plain subscriptions would redeliver every envelope twice.
    expect(s.duplicates).toBeLessThan(total / 4);

    const c = new pg.Client({ connectionString: store.url });
    await c.connect();
    try {
      const ids = new Set((await c.query<{ id: string }>('SELECT id FROM messages')).rows.map((r) => r.id));
      expect(ids.size).toBe(total);
      expect([...pub.acked].filter((id) => !ids.has(id))).toEqual([]);
      const ledger = await c.query<{ gw: string; n: string; max: string }>(
        'SELECT gw, SUM(messages) AS n, MAX(max_seq) AS max FROM ledger_days GROUP BY gw',
      );
      expect(ledger.rows.length).toBe(203);
      for (const v of ledger.rows) expect([v.gw, Number(v.n), Number(v.max)]).toEqual([v.gw, rounds, rounds]);
    } finally {
      await c.end();
    }
    console.log(`shared: ${total} envelopes over 3 collectors, ${s.duplicates} redelivered after 3 kills`);
  }, 180_000);
});
