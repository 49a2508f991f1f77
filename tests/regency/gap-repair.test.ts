import { join } from 'node:path';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { SystemClock } from '../../src/core/clock.js';
import type { Inbound } from '../../src/regency/classify.js';
import { validateRegencyConfigText } from '../../src/regency/config.js';
import type { RegencyConfig } from '../../src/regency/config-schema.js';
import { RegencyApp } from '../../src/regency/regency-app.js';
import { type OpenedDb, openRegencyDb } from '../../src/regency/store/open-db.js';
import { ReadRepo } from '../../src/regency/store/read-repo.js';
import { TestBroker } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';
import { Harness, reportConfig } from '../report/harness.js';
import { DIALECTS, regencyConfig, TestStore } from './helpers.js';

const GW = '3510170012'; // the harness gateway's id
const log = pino({ level: 'silent' });

/**
 * The issue's first must-show: a real gateway publishing through a real Mosquitto to a
 * regency collector that loses a fixed set of messages after the broker delivered them and
 * before its commit. The ledger shows the gaps; the repair loop asks the gateway with
 * `resend`; every gap ends repaired and the store holds every envelope exactly once. Then
 * seqs the gateway no longer keeps end unrepairable.
 */
describe.each(DIALECTS)('gap repair end to end (%s)', (dialect) => {
  const tmp = tempDir('kgw-gap-repair-');
  const broker = new TestBroker();
  const store = new TestStore(dialect, tmp.path);
  const drop = new Set<number>();
  const dropped: number[] = [];
  let regency: RegencyApp;
  let gateway: Harness;
  let opened: OpenedDb;
  let read: ReadRepo;

  const dropBeforeCommit = (it: Inbound) => {
    if (it.t !== 'envelope' || it.gw !== GW || it.env.historical || !drop.has(it.env.seq)) return false;
    dropped.push(it.env.seq);
    return true;
  };
  const gapStates = async () =>
    (
      await opened.db
        .selectFrom('seq_gaps')
        .select(['lo', 'hi', 'state'])
        .where('gw', '=', GW)
        .orderBy('lo')
        .execute()
    ).map((g) => `${g.lo}-${g.hi} ${g.state}`);
  const maxSeq = async () =>
    (await opened.db.selectFrom('villages').select('max_seq').where('gw', '=', GW).executeTakeFirst())
      ?.max_seq ?? 0;

  beforeAll(async () => {
    await broker.start();
    await store.create();
    const r = validateRegencyConfigText(
      stringify(regencyConfig(store, broker.url, { commands: { timeout_s: 5 } })),
      join(tmp.path, 'regency.yaml'),
    );
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    // A short grace period (below the config's minimum of 10 s) keeps the test quick.
    const config: RegencyConfig = { ...r.config, completeness: { repair_after_s: 1 } };
    regency = new RegencyApp({ config, log, clock: new SystemClock(), dropBeforeCommit });
    await regency.start();
    opened = await openRegencyDb(config, log);
    read = new ReadRepo({ db: opened.db });
    gateway = new Harness(join(tmp.path, 'gw'), reportConfig(join(tmp.path, 'gw'), broker.url));
    await gateway.start();
  }, 60_000);
  afterAll(async () => {
    await gateway?.stop();
    await regency?.stop();
    await opened?.db.destroy();
    await broker.dispose();
    await store.drop();
    tmp.cleanup();
  });

  it('every gap the collector lost is asked for, republished and repaired; every envelope stored once', async () => {
    // Live messages only: what a gateway queued before it connected goes as backlog (historical).
    await waitFor(async () => (await gateway.status()).connected === true, 20_000);
    const b = await maxSeq();
    for (const k of [3, 7, 8, 15, 22, 23, 24, 40]) drop.add(b + k);
    await gateway.send('alert first 60');
    await waitFor(async () => (await maxSeq()) >= b + 60, 20_000);
    expect([...new Set(dropped)].sort((a, b) => a - b)).toEqual([...drop].sort((a, b) => a - b));
    await waitFor(
      async () => (await read.totals()).repaired === 5 && (await read.openGaps(GW)).length === 0,
      30_000,
    );
    expect(await gapStates()).toEqual([
      `${b + 3}-${b + 3} repaired`,
      `${b + 7}-${b + 8} repaired`,
      `${b + 15}-${b + 15} repaired`,
      `${b + 22}-${b + 24} repaired`,
      `${b + 40}-${b + 40} repaired`,
    ]);

    // Exactly what the gateway sent (its kept rows: seq and id), each once in the store.
    const gwDb = new Database(join(tmp.path, 'gw', 'data', 'gateway.db'), { readonly: true });
    const sent = gwDb
      .prepare('SELECT seq, msg_id FROM outbox WHERE sent_wall IS NOT NULL ORDER BY seq')
      .all() as Array<{
      seq: number;
      msg_id: string;
    }>;
    gwDb.close();
    const top = await maxSeq();
    const rows = await opened.db
      .selectFrom('messages')
      .select(['seq', 'id', 'historical'])
      .where('gw', '=', GW)
      .orderBy('seq')
      .execute();
    expect(rows.map((m) => [m.seq, m.id])).toEqual(
      sent.filter((s) => s.seq <= top).map((s) => [s.seq, s.msg_id]),
    );
    expect(rows.length).toBe(top - (rows[0]?.seq ?? 1) + 1);
    for (const m of rows) expect(m.historical === 1, `seq ${m.seq}`).toBe(drop.has(m.seq));

    const audit = await opened.db
      .selectFrom('command_audit')
      .select(['actor', 'name', 'outcome', 'args'])
      .where('gw', '=', GW)
      .execute();
    expect(audit.length).toBeGreaterThanOrEqual(1);
    for (const a of audit) expect(a).toMatchObject({ actor: 'gap-repair', name: 'resend', outcome: 'ok' });
    const asked = audit.flatMap((a) => (JSON.parse(a.args) as { ranges: number[][] }).ranges);
    for (const s of drop)
      expect(asked.some(([lo, hi]) => (lo as number) <= s && s <= (hi as number))).toBe(true);
  }, 60_000);

  it('seqs the gateway no longer keeps end unrepairable; status counts only open gaps', async () => {
    const base = await maxSeq();
    const lost = [base + 1, base + 2, base + 3];
    for (const s of lost) drop.add(s);
    // The next three are lost on the way in; no later seq yet, so no gap is open yet.
    await gateway.send('alert second 3');
    await waitFor(() => lost.every((s) => dropped.includes(s)), 20_000);
    await waitFor(async () => (await gateway.status()).depth === 0, 20_000);
    // They age out on the gateway (acknowledged, then past resend_days) before anyone asks.
    await gateway.send(`forget ${base + 1} ${base + 3}`);
    await gateway.send('alert third 2');
    await waitFor(async () => (await read.totals()).unrepairable === 1, 30_000);
    expect((await gapStates()).at(-1)).toBe(`${base + 1}-${base + 3} unrepairable`);
    const t = await read.totals();
    expect(t).toMatchObject({ seq_gaps: 0, repaired: 5, unrepairable: 1 });
    const stored = await opened.db
      .selectFrom('messages')
      .select(sql<number>`COUNT(*)`.as('n'))
      .where('gw', '=', GW)
      .where('seq', 'in', lost)
      .executeTakeFirstOrThrow();
    expect(Number(stored.n)).toBe(0);
    const last = await opened.db
      .selectFrom('command_audit')
      .select(['reply'])
      .where('gw', '=', GW)
      .orderBy('at_ms', 'desc')
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    expect(JSON.parse(last.reply ?? 'null')).toMatchObject({
      ok: true,
      result: { missing: [[base + 1, base + 3]] },
    });
  }, 60_000);
});
