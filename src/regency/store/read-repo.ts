import type { Kysely } from 'kysely';
import { readRevoked } from '../provision/credentials-repo.js';
import type { RegencyTables } from './schema.js';

export type VillageRow = RegencyTables['villages'];

export interface Totals {
  messages: number;
  duplicates: number;
  quarantined: number;
  reused: number;
  /** Gaps still open. */
  seq_gaps: number;
  repaired: number;
  /** Gaps the gateway answered `missing` to (beyond its retention, or never kept). */
  unrepairable: number;
  last_lag_ms: number | null;
}

/** Read-only queries for status, /metrics and the fleet API (collector running or not). */
export class ReadRepo {
  private readonly db: Kysely<RegencyTables>;

  constructor(deps: { db: Kysely<RegencyTables> }) {
    this.db = deps.db;
  }

  async totals(): Promise<Totals> {
    const counters = await this.db.selectFrom('counters').select(['name', 'value']).execute();
    const c = new Map(counters.map((x) => [x.name, Number(x.value)]));
    const gaps = await this.db
      .selectFrom('seq_gaps')
      .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('state')
      .execute();
    const g = new Map(gaps.map((x) => [x.state, Number(x.n)]));
    return {
      messages: c.get('messages') ?? 0,
      duplicates: c.get('duplicates') ?? 0,
      quarantined: c.get('quarantined') ?? 0,
      reused: c.get('reused') ?? 0,
      seq_gaps: g.get('open') ?? 0,
      repaired: g.get('repaired') ?? 0,
      unrepairable: g.get('unrepairable') ?? 0,
      last_lag_ms: c.has('last_lag_ms') ? (c.get('last_lag_ms') as number) : null,
    };
  }

  /** Revoked villages (code → when); their messages are quarantined, the wall marks them. */
  async revoked(): Promise<Map<string, number>> {
    return readRevoked(this.db);
  }

  villages(): Promise<VillageRow[]> {
    return this.db.selectFrom('villages').selectAll().execute();
  }

  async deviceCounts(): Promise<Map<string, Record<string, number>>> {
    const rows = await this.db
      .selectFrom('village_devices')
      .select(['gw', 'state', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy(['gw', 'state'])
      .execute();
    const out = new Map<string, Record<string, number>>();
    for (const r of rows) {
      const m = out.get(r.gw) ?? {};
      m[r.state] = Number(r.n);
      out.set(r.gw, m);
    }
    return out;
  }

  /** Open gaps of one village, lowest first (tests, later the completeness page). */
  openGaps(gw: string): Promise<Array<{ lo: number; hi: number }>> {
    return this.db
      .selectFrom('seq_gaps')
      .select(['lo', 'hi'])
      .where('gw', '=', gw)
      .where('state', '=', 'open')
      .orderBy('lo')
      .execute();
  }

  seqRanges(gw: string): Promise<Array<{ boot: string; lo: number; hi: number }>> {
    return this.db
      .selectFrom('seq_ranges')
      .select(['boot', 'lo', 'hi'])
      .where('gw', '=', gw)
      .orderBy('lo')
      .execute();
  }

  ledgerDay(gw: string, day: string) {
    return this.db
      .selectFrom('ledger_days')
      .selectAll()
      .where('gw', '=', gw)
      .where('day', '=', day)
      .executeTakeFirst();
  }
}
