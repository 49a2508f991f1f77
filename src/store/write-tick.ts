import type { Logger } from '../core/logger.js';
import type { Scheduler, TaskHandle } from '../core/scheduler.js';
import type { Service } from '../core/service.js';
import type { Store } from './store.js';

/** How often the periodic writers of derived data commit, together. */
export const WRITE_TICK_MS = 5 * 60_000;

/** Something written on the write tick: buffered derived data (history, held health, stamps). */
export interface TickWriter {
  name: string;
  /**
   * Writes inside the tick's transaction, in a savepoint of its own: if it throws, only its
   * part rolls back and the others still commit.
   */
  write(): void;
  /**
   * After the commit (ok) or its failure: what write() took from memory can be let go, or is
   * kept for the next tick. Called once after every write(), whatever happened.
   */
  settled?(ok: boolean): void;
}

export interface WriteTickDeps {
  store: Pick<Store, 'db' | 'batch'>;
  scheduler: Scheduler;
  log: Logger;
  everyMs?: number;
}

/**
 * One commit for all the periodic writers of derived data. On an SD card a commit costs about
 * 16 KiB whatever it holds (docs/storage.md: the WAL frame straddles file-system pages, the
 * WAL index is dirtied): the uplink history, the health written behind, the run's alive stamp
 * and the write ledger each on a timer of their own made four commits in five minutes; on one
 * tick they make one. Committed at synchronous=NORMAL: nothing here was acknowledged to anyone.
 */
export class WriteTick implements Service {
  readonly name = 'write-tick';
  private readonly d: WriteTickDeps;
  private readonly writers = new Set<TickWriter>();
  private task: TaskHandle | undefined;

  constructor(deps: WriteTickDeps) {
    this.d = deps;
  }

  /** Registers a writer; returns its removal (a module's stop). */
  add(writer: TickWriter): () => void {
    this.writers.add(writer);
    return () => {
      this.writers.delete(writer);
    };
  }

  start(): void {
    const everyMs = this.d.everyMs ?? WRITE_TICK_MS;
    this.task = this.d.scheduler.every({
      name: 'store:write-tick',
      coarse: true,
      intervalMs: everyMs,
      initialDelayMs: everyMs,
      run: () => this.run(),
    });
  }

  stop(): void {
    this.task?.cancel();
    this.task = undefined;
  }

  /** Writes every registered writer's part in one transaction now. */
  run(): void {
    const writers = [...this.writers];
    if (writers.length === 0) return;
    const ok = new Map<TickWriter, boolean>();
    try {
      this.d.store.batch(() => {
        for (const w of writers) {
          try {
            this.d.store.db.transaction(() => w.write())();
            ok.set(w, true);
          } catch (err) {
            ok.set(w, false);
            this.d.log.warn({ err, writer: w.name }, 'write tick: one part not written');
          }
        }
      });
    } catch (err) {
      for (const w of writers) ok.set(w, false);
      this.d.log.warn({ err }, 'write tick: commit failed');
    }
    for (const w of writers) {
      try {
        w.settled?.(ok.get(w) ?? false);
      } catch (err) {
        this.d.log.error({ err, writer: w.name }, 'write tick: settling failed');
      }
    }
  }
}
