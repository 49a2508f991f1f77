import type { Database } from 'better-sqlite3';
import type { Store } from '../store/store.js';

export type OutboundState = 'queued' | 'delivered' | 'failed';

export interface OutboundRow {
  seq: number;
  id: string;
  upstream: string;
  idem_key: string;
  device_id: string;
  method: string;
  path: string;
  headers: string;
  body: Buffer | null;
  body_size: number;
  state: OutboundState;
  tries: number;
  last_error: string | null;
  created_wall: number;
  done_wall: number | null;
  result_status: number | null;
  result_type: string | null;
  result_body: Buffer | null;
}

export type NewOutbound = Pick<
  OutboundRow,
  'id' | 'upstream' | 'idem_key' | 'device_id' | 'method' | 'path' | 'headers' | 'body' | 'created_wall'
>;

/** Queued writes: acknowledged (202) rows are committed with fsync (store.durable). */
export class OutboundRepo {
  private readonly store: Store;

  constructor(deps: { store: Store }) {
    this.store = deps.store;
  }

  private get db(): Database {
    return this.store.db;
  }

  insert(r: NewOutbound): void {
    this.store.durable(() =>
      this.db
        .prepare(
          `INSERT INTO outbound (id, upstream, idem_key, device_id, method, path, headers, body, body_size,
             state, created_wall) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?)`,
        )
        .run(
          r.id,
          r.upstream,
          r.idem_key,
          r.device_id,
          r.method,
          r.path,
          r.headers,
          r.body,
          r.body?.length ?? 0,
          r.created_wall,
        ),
    );
  }

  byKey(upstream: string, idemKey: string): OutboundRow | undefined {
    return this.db
      .prepare('SELECT * FROM outbound WHERE upstream = ? AND idem_key = ?')
      .get(upstream, idemKey) as OutboundRow | undefined;
  }

  byId(id: string): OutboundRow | undefined {
    return this.db.prepare('SELECT * FROM outbound WHERE id = ?').get(id) as OutboundRow | undefined;
  }

  /** The oldest queued write of one upstream: delivery is strictly in this order. */
  head(upstream: string): OutboundRow | undefined {
    return this.db
      .prepare(`SELECT * FROM outbound WHERE state = 'queued' AND upstream = ? ORDER BY seq LIMIT 1`)
      .get(upstream) as OutboundRow | undefined;
  }

  queuedUpstreams(): string[] {
    return (
      this.db.prepare(`SELECT DISTINCT upstream FROM outbound WHERE state = 'queued'`).all() as Array<{
        upstream: string;
      }>
    ).map((r) => r.upstream);
  }

  hasQueued(upstream: string): boolean {
    return (
      this.db
        .prepare(`SELECT 1 FROM outbound WHERE state = 'queued' AND upstream = ? LIMIT 1`)
        .get(upstream) !== undefined
    );
  }

  totals(): { depth: number; bytes: number } {
    const r = this.db
      .prepare(
        `SELECT COUNT(*) AS depth, COALESCE(SUM(body_size), 0) AS bytes FROM outbound WHERE state = 'queued'`,
      )
      .get() as { depth: number; bytes: number };
    return r;
  }

  attemptFailed(seq: number, tries: number, error: string): void {
    this.store.batch(() =>
      this.db.prepare('UPDATE outbound SET tries = ?, last_error = ? WHERE seq = ?').run(tries, error, seq),
    );
  }

  /** Final state; the request body is dropped at once (no reason to keep citizens' data). */
  finish(
    seq: number,
    state: 'delivered' | 'failed',
    f: { tries: number; wall: number; error?: string; status?: number; type?: string; body?: Buffer },
  ): void {
    this.store.durable(() =>
      this.db
        .prepare(
          `UPDATE outbound SET state = ?, tries = ?, done_wall = ?, last_error = ?, result_status = ?,
             result_type = ?, result_body = ?, body = NULL WHERE seq = ?`,
        )
        .run(state, f.tries, f.wall, f.error ?? null, f.status ?? null, f.type ?? null, f.body ?? null, seq),
    );
  }

  /** Forgets finished rows older than the cutoff (their status can no longer be asked). */
  prune(beforeWall: number): number {
    return this.store.batch(
      () =>
        this.db.prepare(`DELETE FROM outbound WHERE state != 'queued' AND done_wall < ?`).run(beforeWall)
          .changes,
    );
  }
}
