import type { Kysely } from 'kysely';
import type { RegencyTables } from '../store/schema.js';

export type Episode = RegencyTables['alert_episodes'];
export type QueuedAlert = Omit<RegencyTables['alert_queue'], 'attempts'> & { attempts: number };
export type NewAlert = Omit<QueuedAlert, 'attempts' | 'last_error' | 'sent_ms' | 'state'>;

/** Alert episodes and the durable webhook queue (both dialects, one query each). */
export class AlertRepo {
  private readonly db: Kysely<RegencyTables>;

  constructor(deps: { db: Kysely<RegencyTables> }) {
    this.db = deps.db;
  }

  async episodes(): Promise<Map<string, Episode>> {
    const rows = await this.db.selectFrom('alert_episodes').selectAll().execute();
    return new Map(rows.map((r) => [r.gw, r]));
  }

  /** Opens the village's episode unless one is open (another collector may have opened it). */
  async openEpisode(e: Episode): Promise<Episode> {
    await this.db
      .insertInto('alert_episodes')
      .values(e)
      .onConflict((oc) => oc.column('gw').doNothing())
      .execute();
    return (await this.db
      .selectFrom('alert_episodes')
      .selectAll()
      .where('gw', '=', e.gw)
      .executeTakeFirst()) as Episode;
  }

  async setGoodSince(gw: string, ms: number | null): Promise<void> {
    await this.db.updateTable('alert_episodes').set({ good_since_ms: ms }).where('gw', '=', gw).execute();
  }

  async closeEpisode(gw: string, startedMs: number): Promise<void> {
    await this.db
      .deleteFrom('alert_episodes')
      .where('gw', '=', gw)
      .where('started_ms', '=', startedMs)
      .execute();
  }

  /** Stores the alert unless its id is already there: the enqueue is the acknowledgement. */
  async enqueue(a: NewAlert): Promise<boolean> {
    const r = await this.db
      .insertInto('alert_queue')
      .values({ ...a, state: 'pending', last_error: null, sent_ms: null })
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async has(id: string): Promise<boolean> {
    return (
      (await this.db.selectFrom('alert_queue').select('id').where('id', '=', id).executeTakeFirst()) !==
      undefined
    );
  }

  /** Pending alerts, oldest first (the sender keeps each village's order per hook). */
  async pending(limit: number): Promise<QueuedAlert[]> {
    return (await this.db
      .selectFrom('alert_queue')
      .selectAll()
      .where('state', '=', 'pending')
      .orderBy('created_ms')
      .orderBy('id')
      .limit(limit)
      .execute()) as QueuedAlert[];
  }

  /**
   * Takes the alert for one delivery attempt: moves its next try to `untilMs` only if no one
   * else did since it was read (several collectors on one store never post it twice at once).
   */
  async claim(id: string, seenNextMs: number, untilMs: number): Promise<boolean> {
    const r = await this.db
      .updateTable('alert_queue')
      .set({ next_ms: untilMs })
      .where('id', '=', id)
      .where('state', '=', 'pending')
      .where('next_ms', '=', seenNextMs)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async sent(ids: readonly string[], atMs: number): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .updateTable('alert_queue')
      .set((eb) => ({ state: 'sent', sent_ms: atMs, last_error: null, attempts: eb('attempts', '+', 1) }))
      .where('id', 'in', ids)
      .execute();
  }

  async retry(id: string, attempts: number, nextMs: number, error: string, failed: boolean): Promise<void> {
    await this.db
      .updateTable('alert_queue')
      .set({
        attempts,
        next_ms: nextMs,
        last_error: error.slice(0, 500),
        state: failed ? 'failed' : 'pending',
      })
      .where('id', '=', id)
      .execute();
  }

  /**
   * Quarantined messages that mean someone speaks for a village it is not (`gw_mismatch`) or
   * a revoked box still talks (`revoked`), after `afterId` and not older than `sinceMs`.
   */
  async securityQuarantine(
    afterId: number,
    sinceMs: number,
    limit: number,
  ): Promise<Array<{ id: number; at_ms: number; topic: string; reason: string }>> {
    const rows = await this.db
      .selectFrom('quarantine')
      .select(['id', 'at_ms', 'topic', 'reason'])
      .where('id', '>', afterId)
      .where('at_ms', '>=', sinceMs)
      .where('reason', 'in', ['gw_mismatch', 'revoked'])
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ ...r, id: Number(r.id), at_ms: Number(r.at_ms) }));
  }

  /** The newest alerts, whatever their state (the fleet page's list): no body, no URL. */
  async recent(limit: number): Promise<Array<Omit<QueuedAlert, 'body' | 'episode_ms'>>> {
    const rows = await this.db
      .selectFrom('alert_queue')
      .select([
        'id',
        'hook',
        'gw',
        'kind',
        'created_ms',
        'state',
        'attempts',
        'next_ms',
        'last_error',
        'sent_ms',
      ])
      .orderBy('created_ms', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ ...r, attempts: Number(r.attempts) }));
  }

  async counts(): Promise<Record<'pending' | 'sent' | 'failed', number>> {
    const rows = await this.db
      .selectFrom('alert_queue')
      .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('state')
      .execute();
    const out = { pending: 0, sent: 0, failed: 0 };
    for (const r of rows) if (r.state in out) out[r.state as keyof typeof out] = Number(r.n);
    return out;
  }
}
