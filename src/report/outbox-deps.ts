import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Scheduler } from '../core/scheduler.js';
import type { Store } from '../store/store.js';
import type { OutboxRepo } from './outbox-repo.js';
import type { Topics } from './topics.js';

/** What the outbox needs of the store (the fleet simulator runs it on an in-memory database). */
export type OutboxStore = Pick<Store, 'db' | 'batch' | 'durable'>;

export interface OutboxDeps {
  store: OutboxStore;
  repo: OutboxRepo;
  clock: Clock;
  scheduler: Scheduler;
  log: Logger;
  topics: Topics;
  gw: string;
  boot: string;
  maxBytes: number;
  /**
   * How long an envelope is kept after its PUBACK for the regency's `resend` (mqtt.resend_days);
   * 0 deletes it at PUBACK. Kept rows count against maxBytes and are the first to go.
   */
  keepMs?: number;
  /**
   * Write-behind for health while connected (the daemon: 5 minutes; unset: none). See
   * docs/reporting.md: stored with the next commit of anything else, when the link goes, at
   * stop, or after this long; a kill -9 loses at most this window of health (their seqs are
   * handed out again, which the regency counts as reused after a power cut).
   */
  deferHealthMs?: number;
  /** Called after every change of depth or drop counts (status, pump). */
  onChange(): void;
}
