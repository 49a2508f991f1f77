import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Envelope } from '../../src/report/envelope.js';
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

import { healthOf } from './seed.js';

/** PostgreSQL only (shared subscriptions): skipped in the SQLite-only passes. */
const describePg = describe.skipIf(!POSTGRES);

const VILLAGES = 24;
const PER_VILLAGE = 40;

/** A deterministic stream (LCG), so a failure replays the same way. */
function lcg(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

/**
 * One village's messages in the order they reach the broker: about a third held back and sent
 * 1–8 messages late, some sent twice, and now and then an older one replayed as `historical`
 * (a resend answer). Every message of the village is in it at least once.
 */
function scrambled(list: readonly Envelope[], r: () => number): Envelope[] {
  const out: Envelope[] = [];
  const held: Array<{ env: Envelope; release: number }> = [];
  for (const [i, env] of list.entries()) {
    if (r() < 0.35) held.push({ env, release: i + 1 + Math.floor(r() * 8) });
    else out.push(env);
    for (const h of held.filter((x) => x.release <= i)) out.push(h.env);
    held.splice(0, held.length, ...held.filter((x) => x.release > i));
    if (r() < 0.1) out.push(list[Math.floor(r() * (i + 1))] as Envelope);
    if (r() < 0.08) out.push({ ...(list[Math.floor(r() * (i + 1))] as Envelope), historical: true });
  }
  for (const h of held) out.push(h.env);
  return out;
}

// Three collector processes on one broker (`$share/regency/…`) and one PostgreSQL store, the
// stream of each village delayed, duplicated and reordered on purpose, one collector killed -9
// mid-stream (what it held unacknowledged comes back late). While it runs the fleet API is
// polled: the state it shows for a village may only move forward.
describePg('out-of-order delivery across three collectors on a shared subscription (postgres)', () => {
  const tmp = tempDir('kgw-regency-order-shared-');
  const broker = new TestBroker();
  const store = new TestStore('postgres', tmp.path);
  const pub = new VillagePublisher();
  const daemons: RegencyDaemon[] = [];

  beforeAll(async () => {
    await broker.start();
    await store.create();
    for (let i = 1; i <= 3; i++) {
      const base = regencyConfig(store, broker.url, { data_dir: join(tmp.path, `data-${i}`) });
      const d = new RegencyDaemon(join(tmp.path, `regency-${i}`), {
        ...base,
        mqtt: { ...base.mqtt, client_id: `kgw-regency-order-${i}`, shared_group: 'regency' },
      });
      await d.start();
      daemons.push(d);
    }
    await pub.connect(broker.url);
    await daemons[2]?.login('noc-order', 'sandi-rahasia-uji', 'viewer');
  }, 60_000);
  afterAll(async () => {
    await pub.close();
    for (const d of daemons) await d.kill();
    await broker.dispose();
    await store.drop();
    tmp.cleanup();
  });

  it('the current state shown never goes back, and ends on each village newest sample', async () => {
    const codes = await villageCodes(VILLAGES);
    const r = lcg(2107);
    // Sample n carries n in its outbox depth, so the fleet row says which sample it shows.
    const streams = codes.map((gw) => {
      const list = Array.from({ length: PER_VILLAGE }, (_, i) => {
        const env = healthOf(pub, gw, {
          verdict: r() < 0.5 ? 'up' : 'down',
          fault_layer: 'isp',
          depth: i + 1,
        });
        return { ...env, seq: i + 1 };
      });
      return scrambled(list, r);
    });
    const distinct = VILLAGES * PER_VILLAGE;
    const late = streams.flat().length - distinct;

    const poller = daemons[2] as RegencyDaemon;
    const seen = new Map<string, number[]>(codes.map((c) => [c, []]));
    const backwards: string[] = [];
    let polls = 0;
    let publishing = true;
    const poll = (async () => {
      while (publishing || polls < 3) {
        const res = await poller.http<Array<{ code: string; outbox_depth: number | null }>>('/api/v1/fleet');
        if (res.status === 200) {
          polls++;
          for (const v of res.body) {
            const shown = seen.get(v.code);
            if (!shown || v.outbox_depth === null) continue;
            const last = shown.at(-1);
            if (last !== undefined && v.outbox_depth < last)
              backwards.push(`${v.code}: ${last} then ${v.outbox_depth}`);
            if (last !== v.outbox_depth) shown.push(v.outbox_depth);
          }
        }
        await new Promise((res) => setTimeout(res, 25));
      }
    })();

    const rounds = Math.max(...streams.map((s) => s.length));
    for (let i = 0; i < rounds; i++) {
      await Promise.all(
        streams.map((s) => {
          const env = s[i];
          return env ? pub.publish(env, 'health') : undefined;
        }),
      );
      // Killed with messages it has not acknowledged: they come back to it, late, after restart.
      if (i === Math.floor(rounds / 3)) await daemons[0]?.kill('SIGKILL');
      if (i === Math.floor(rounds / 2)) await daemons[0]?.start();
      // Paced a little, so the poller sees the states on their way and not only the end.
      await new Promise((res) => setTimeout(res, 15));
    }
    const status = async () =>
      JSON.parse((await regencyCli(['status', '--json', '--config', poller.configPath])).out) as {
        messages: number;
        seq_gaps: number;
      };
    await waitFor(async () => (await status()).messages >= distinct, 60_000, 200);
    publishing = false;
    await poll;

    expect(backwards).toEqual([]);
    const final = await poller.http<Array<{ code: string; outbox_depth: number | null }>>('/api/v1/fleet');
    for (const gw of codes) expect(final.body.find((v) => v.code === gw)?.outbox_depth, gw).toBe(PER_VILLAGE);
    expect(await status()).toMatchObject({ messages: distinct, seq_gaps: 0 });
    // The poller saw the state move while the stream ran, not only its end.
    const moves = [...seen.values()].reduce((n, s) => n + s.length, 0);
    expect(moves).toBeGreaterThan(VILLAGES);
    console.log(
      `order across 3 collectors: ${distinct} samples + ${late} late copies, ${polls} polls, ` +
        `${moves} state changes seen, none backwards`,
    );
  }, 180_000);
});
