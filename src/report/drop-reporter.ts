import type { Scheduler } from '../core/scheduler.js';
import type { Store } from '../store/store.js';
import type { Outbox } from './outbox.js';
import type { OutboxRepo } from './outbox-repo.js';
import { CLASSES } from './topics.js';

/**
 * Turns outbox drops into `event` messages (code `outbox_dropped`), coalesced per second. The
 * counts already reported are persisted (`reported.<class>`), so the deltas of all reports add
 * up to the drop counters exactly, across restarts.
 */
export class DropReporter {
  private readonly d: { outbox: Outbox; repo: OutboxRepo; store: Store; scheduler: Scheduler; kick(): void };
  private reported: Record<string, number> = {};
  private timer: { cancel(): void } | undefined;

  constructor(deps: DropReporter['d']) {
    this.d = deps;
  }

  start(): void {
    const counters = this.d.repo.counters();
    for (const c of CLASSES) this.reported[c] = counters.get(`reported.${c}`) ?? 0;
    this.poke();
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Something may have been dropped: report it within a second. */
  poke(): void {
    if (this.timer) return;
    this.timer = this.d.scheduler.after('report-drop-event', 1000, () => {
      this.timer = undefined;
      this.report();
    });
  }

  private report(): void {
    const drops = this.d.outbox.drops();
    const fresh: Record<string, number> = {};
    for (const c of CLASSES)
      if (drops[c] > (this.reported[c] ?? 0)) fresh[c] = drops[c] - (this.reported[c] ?? 0);
    if (Object.keys(fresh).length === 0) return;
    const before = this.d.outbox.dropTotal;
    this.d.store.durable(() => {
      this.d.outbox.enqueue('event', {
        code: 'outbox_dropped',
        severity: 'warning',
        message: 'outbox full: messages were shed',
        details: { dropped: fresh, dropped_total: drops },
      });
      for (const [c, n] of Object.entries(fresh)) this.d.repo.addCounter(`reported.${c}`, n);
    });
    this.reported = { ...drops };
    this.d.kick();
    // Room for this event may itself have shed something: report that too.
    if (this.d.outbox.dropTotal !== before) this.poke();
  }
}
