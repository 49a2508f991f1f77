import type { Kysely } from 'kysely';
import type { RegencyTables } from './schema.js';

/** Read-only queries behind the monthly reports and the completeness view (both dialects). */
export class ReportRepo {
  private readonly db: Kysely<RegencyTables>;

  constructor(deps: { db: Kysely<RegencyTables> }) {
    this.db = deps.db;
  }

  /**
   * Messages of one kind stored on or after `fromDay` (their WIB day). An outage or a usage
   * event is published when it ends / after it happened, so nothing of a period is stored on
   * an earlier day; what is stored later (an outage spanning months, a backlog replayed after
   * a cut) is read and clipped by the caller.
   */
  messagesSince(kind: 'outage' | 'usage', fromDay: string) {
    return this.db
      .selectFrom('messages')
      .select(['gw', 'id', 'ts', 'data'])
      .where('kind', '=', kind)
      .where('day', '>=', fromDay)
      .orderBy('received_ms')
      .execute();
  }

  /** Per village: messages stored for the WIB days firstDay..lastDay (the "has data" test). */
  async messagesPerVillage(firstDay: string, lastDay: string): Promise<Map<string, number>> {
    const rows = await this.db
      .selectFrom('ledger_days')
      .select(['gw', (eb) => eb.fn.sum<number>('messages').as('n')])
      .where('day', '>=', firstDay)
      .where('day', '<=', lastDay)
      .groupBy('gw')
      .execute();
    return new Map(rows.map((r) => [r.gw, Number(r.n)]));
  }

  /** The latest link payload of every village (an outage still running is in it). */
  links() {
    return this.db.selectFrom('villages').select(['gw', 'link']).where('link', 'is not', null).execute();
  }

  ledgerDay(day: string) {
    return this.db.selectFrom('ledger_days').selectAll().where('day', '=', day).execute();
  }

  /** Gaps opened that day, or lying inside a village's seq range of that day. */
  gapsFor(day: string, gws: readonly string[]) {
    let q = this.db.selectFrom('seq_gaps').select(['gw', 'lo', 'hi', 'state', 'opened_ms', 'closed_ms']);
    q =
      gws.length > 0
        ? q.where((eb) => eb.or([eb('opened_day', '=', day), eb('gw', 'in', gws)]))
        : q.where('opened_day', '=', day);
    return q.orderBy('gw').orderBy('lo').execute();
  }

  reuseOn(day: string) {
    return this.db
      .selectFrom('seq_reuse')
      .select(['gw', 'seq', 'boot', 'msg_id', 'at_ms'])
      .where('day', '=', day)
      .orderBy('gw')
      .orderBy('at_ms')
      .execute();
  }
}
