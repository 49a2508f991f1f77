import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { Scheduler, TaskHandle } from '../../core/scheduler.js';
import type { Service } from '../../core/service.js';
import type { RegencyConfig } from '../config-schema.js';
import type { FleetVillage } from '../fleet.js';
import type { AlertRepo } from './alert-repo.js';
import { AlertSender } from './alert-sender.js';
import { AlertWatch, hooksOf } from './alert-watch.js';

/** Sender rounds at most this far apart (sooner when alerts.retry.initial_s is shorter). */
const SEND_TICK_MS = 1000;

/**
 * Alerts in the running collector: the watch every alerts.check_s, the sender on every new
 * alert and on a short tick (retries fall due on it). With no webhook configured it does
 * nothing at all. A failing round is logged and the next one tries again.
 */
export class AlertService implements Service {
  readonly name = 'alerts';
  private readonly watch: AlertWatch;
  private readonly sender: AlertSender;
  private readonly config: RegencyConfig;
  private readonly scheduler: Scheduler;
  private readonly log: Logger;
  private readonly enabled: boolean;
  private readonly tasks: TaskHandle[] = [];

  constructor(deps: {
    config: RegencyConfig;
    repo: AlertRepo;
    clock: Clock;
    log: Logger;
    scheduler: Scheduler;
    fleet(): Promise<FleetVillage[]>;
    receiving?(): boolean;
  }) {
    const hooks = hooksOf(deps.config);
    this.enabled = hooks.length > 0;
    this.config = deps.config;
    this.scheduler = deps.scheduler;
    this.log = deps.log;
    this.sender = new AlertSender({ ...deps, hooks });
    this.watch = new AlertWatch({ ...deps, hooks, queued: () => void this.send() });
  }

  start(): void {
    if (!this.enabled) return;
    const a = this.config.alerts;
    this.tasks.push(
      this.scheduler.every({
        name: 'alert-watch',
        intervalMs: a.check_s * 1000,
        initialDelayMs: a.check_s * 1000,
        timeoutMs: 60_000,
        run: () => this.check(),
      }),
      this.scheduler.every({
        name: 'alert-send',
        intervalMs: Math.min(SEND_TICK_MS, a.retry.initial_s * 1000),
        initialDelayMs: 0,
        // A round waits for its POSTs (each bounded by retry.timeout_s).
        timeoutMs: (a.retry.timeout_s + 30) * 1000,
        run: () => this.send(),
      }),
    );
  }

  async stop(): Promise<void> {
    for (const t of this.tasks.splice(0)) t.cancel();
    await this.sender.idle();
  }

  private async check(): Promise<void> {
    try {
      await this.watch.check();
    } catch (err) {
      this.log.warn({ err }, 'alert check failed');
    }
  }

  private async send(): Promise<void> {
    try {
      await this.sender.kick();
    } catch (err) {
      this.log.warn({ err }, 'alert delivery round failed');
    }
  }
}
