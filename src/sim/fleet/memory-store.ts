import BetterSqlite3, { type Database } from 'better-sqlite3';
import type { OutboxStore } from '../../report/outbox.js';
import { migrate } from '../../store/migrate.js';
import { m004Report } from '../../store/migrations/004-report.js';
import { m009ReportSent } from '../../store/migrations/009-report-sent.js';
import { m010OutboxSeqId } from '../../store/migrations/010-outbox-seq-id.js';

/**
 * A village's "SD card" for the simulator: an in-memory SQLite database with the gateway's
 * real outbox schema, run by the real Outbox and OutboxRepo. It outlives a simulated power
 * cut (the process state of the box dies, the card keeps its rows and its seq counter).
 * In memory because a file per village would cost two thousand fsyncing databases and
 * their file handles for what is, here, a test load generator; see docs/fleet-sim.md.
 */
export class MemoryStore implements OutboxStore {
  private handle: Database | undefined;

  get db(): Database {
    if (!this.handle) throw new Error('memory store is not open');
    return this.handle;
  }

  open(): void {
    if (this.handle) return;
    const db = new BetterSqlite3(':memory:');
    migrate(db, [m004Report, m009ReportSent, m010OutboxSeqId]);
    this.handle = db;
  }

  close(): void {
    this.handle?.close();
    this.handle = undefined;
  }

  durable<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  batch<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }
}
