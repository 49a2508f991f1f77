import type { Logger } from '../../core/logger.js';
import type { Scheduler, TaskHandle } from '../../core/scheduler.js';
import type { Service } from '../../core/service.js';
import type { Provisioner, Reload } from './provisioner.js';

const EVERY_MS = 60_000;

/**
 * In `regency run`: at start, finishes what a killed `regency provision` or sweep left (the
 * broker files made to match the store); then each minute ends the rotations whose grace is
 * over, retiring their old identity and reloading the broker (provision.broker_reload).
 */
export class GraceSweeper implements Service {
  readonly name = 'rotation-grace';
  private readonly d: { provisioner: Provisioner; out: string; scheduler: Scheduler; log: Logger };
  private task: TaskHandle | undefined;
  private running: Promise<void> | undefined;

  constructor(deps: GraceSweeper['d']) {
    this.d = deps;
  }

  start(): void {
    this.task = this.d.scheduler.every({
      name: 'rotation-grace',
      intervalMs: EVERY_MS,
      initialDelayMs: 0,
      timeoutMs: EVERY_MS,
      coarse: true,
      run: () => this.sweep(),
    });
  }

  async stop(): Promise<void> {
    this.task?.cancel();
    this.task = undefined;
    await this.running;
  }

  /** One pass now (the minute's task, and tests); a failure is logged and tried again next minute. */
  sweep(): Promise<void> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private reconciled = false;

  private async pass(): Promise<void> {
    try {
      if (!this.reconciled) {
        this.note('broker files matched to the store', await this.d.provisioner.reconcile(this.d.out));
        this.reconciled = true;
      }
      const r = await this.d.provisioner.endGraces(this.d.out);
      if (r.codes.length > 0) {
        this.d.log.info({ villages: r.codes }, 'rotation grace over: old identities retired');
        this.note('broker files written', r.reload);
      }
    } catch (err) {
      this.d.log.warn({ err }, 'rotation grace pass failed; next pass in a minute');
    }
  }

  private note(what: string, reload: Reload): void {
    if (reload === 'manual')
      this.d.log.warn(
        { out: this.d.out },
        `${what}; copy them to the broker and reload it (or set provision.broker_reload)`,
      );
    else if (reload === 'reloaded') this.d.log.info({ out: this.d.out }, `${what}; broker reloaded`);
  }
}
