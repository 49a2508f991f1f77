import type { Kysely } from 'kysely';
import { wibDay } from '../../core/wib.js';
import { readRevoked } from '../provision/credentials-repo.js';
import type { RegencyTables } from './schema.js';

export interface StoredMessage {
  /** When it happened: the gateway's `ts` when its clock was synced, else when it arrived. */
  atMs: number;
  data: string;
}

/** One village's stored detail: its devices and its health and outage messages. */
export class VillageRepo {
  private readonly db: Kysely<RegencyTables>;

  constructor(deps: { db: Kysely<RegencyTables> }) {
    this.db = deps.db;
  }

  row(gw: string) {
    return this.db.selectFrom('villages').selectAll().where('gw', '=', gw).executeTakeFirst();
  }

  /** When the village's identity was revoked; null when it is not. */
  async revokedMs(gw: string): Promise<number | null> {
    return (await readRevoked(this.db)).get(gw) ?? null;
  }

  devices(gw: string) {
    return this.db
      .selectFrom('village_devices')
      .select(['device_id', 'state', 'data', 'at_ms'])
      .where('gw', '=', gw)
      .orderBy('device_id')
      .execute();
  }

  /** The newest live health message's time (the stored box health is its data). */
  async lastHealthMs(gw: string): Promise<number | null> {
    const r = await this.db
      .selectFrom('messages')
      .select(['ts', 'clock_synced', 'received_ms'])
      .where('gw', '=', gw)
      .where('kind', '=', 'health')
      .where('historical', '=', 0)
      .orderBy('received_ms', 'desc')
      .limit(1)
      .executeTakeFirst();
    return r ? atMs(r) : null;
  }

  /**
   * Messages of one kind whose WIB day is `fromMs`'s or later (the (gw, day) index), then
   * kept when they happened in [fromMs, toMs]. `slackMs` widens the day range backwards.
   */
  async messages(
    gw: string,
    kind: string,
    fromMs: number,
    toMs: number,
    limit: number,
  ): Promise<StoredMessage[]> {
    const rows = await this.db
      .selectFrom('messages')
      .select(['ts', 'clock_synced', 'received_ms', 'data'])
      .where('gw', '=', gw)
      .where('kind', '=', kind)
      .where('day', '>=', wibDay(fromMs))
      .where('day', '<=', wibDay(toMs + 86_400_000))
      .orderBy('day')
      .orderBy('received_ms')
      .limit(limit)
      .execute();
    return rows
      .map((r) => ({ atMs: atMs(r), data: r.data }))
      .filter((m) => m.atMs >= fromMs && m.atMs <= toMs)
      .sort((a, b) => a.atMs - b.atMs);
  }
}

function atMs(r: { ts: string; clock_synced: number; received_ms: number }): number {
  const ts = Date.parse(r.ts);
  return r.clock_synced === 1 && Number.isFinite(ts) ? ts : r.received_ms;
}
