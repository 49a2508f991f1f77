import type Database from 'better-sqlite3';
import type { Kysely, Transaction } from 'kysely';
import { readRevoked } from '../provision/credentials-repo.js';
import { type CommitResult, foldBatch, planBatch, type Received } from './ingest-fold.js';
import { chunks, loadBatch } from './ingest-load.js';
import { SqliteIngest } from './ingest-sqlite.js';
import { bumpCounters, insertMessages, writeVillages } from './ingest-write.js';
import type { Dialect, RegencyTables } from './schema.js';

export type { CommitResult, Received } from './ingest-fold.js';

type Trx = Transaction<RegencyTables>;

export interface IngestRepoDeps {
  db: Kysely<RegencyTables>;
  dialect: Dialect;
  repairAfterMs: number;
  /**
   * The SQLite handle under `db` (OpenedDb.sqlite): when given, commits run on it directly,
   * with prepared statements kept for the life of the store (ingest-sqlite.ts).
   */
  sqlite?: Database.Database | undefined;
}

/**
 * Writes one batch of received messages in one transaction: envelopes keyed on their id
 * (a redelivery is a no-op, counted as a duplicate), the seq ledger of each village, the
 * per-day completeness counts, the latest village state and the quarantine. The caller
 * acknowledges the batch to the broker only after this resolves.
 *
 * Through Kysely (PostgreSQL, or SQLite without its handle) a batch costs a fixed number of
 * statements, not a number per village: the villages of the batch are read (and on PostgreSQL
 * locked) together, folded in memory, and written back with multi-row statements
 * (ingest-load.ts, ingest-write.ts): a round trip per statement is what costs there.
 */
export class IngestRepo {
  private readonly db: Kysely<RegencyTables>;
  private readonly dialect: Dialect;
  private readonly repairAfterMs: number;
  private readonly native: SqliteIngest | undefined;

  constructor(deps: IngestRepoDeps) {
    this.db = deps.db;
    this.dialect = deps.dialect;
    this.native =
      deps.dialect === 'sqlite' && deps.sqlite
        ? new SqliteIngest(deps.sqlite, deps.repairAfterMs)
        : undefined;
    this.repairAfterMs = deps.repairAfterMs;
  }

  commit(batch: readonly Received[]): Promise<CommitResult> {
    const native = this.native;
    // Holding Kysely's one connection: no transaction of another module is open on it meanwhile.
    if (native) return this.db.connection().execute(async () => native.commit(batch));
    return this.db.transaction().execute((trx) => this.apply(trx, batch));
  }

  private async apply(trx: Trx, batch: readonly Received[]): Promise<CommitResult> {
    // Read in the same transaction: whatever commits after `regency revoke` committed is refused.
    const plan = planBatch(batch, await readRevoked(trx));
    for (const part of chunks(plan.quarantined)) await trx.insertInto('quarantine').values(part).execute();
    const loaded = await loadBatch(trx, this.dialect, plan.gws, plan.pairs);
    const inserted = await insertMessages(trx, this.dialect, plan.messages);
    const writes = foldBatch(plan, loaded, inserted);
    await writeVillages(trx, writes, plan.nowMs, this.repairAfterMs);
    const r = plan.result;
    await bumpCounters(
      trx,
      { messages: r.messages, duplicates: r.duplicates, reused: r.reused, quarantined: r.quarantined },
      r.lagMs,
    );
    return r;
  }
}
