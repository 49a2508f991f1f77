import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Scheduler, TaskHandle } from '../core/scheduler.js';
import { SdNotifier } from '../core/sd-notify.js';
import type { Service } from '../core/service.js';
import type { GatewayStatus } from '../status/types.js';
import type { AlertsRepo } from '../store/alerts-repo.js';
import type { RunsRepo } from '../store/runs-repo.js';
import type { Store } from '../store/store.js';
import type { WriteTick } from '../store/write-tick.js';

export const PID_FILE = 'kampung-gw.pid';

export interface RunServiceDeps {
  gateway: { id: string; name: string };
  version: string;
  runId: string;
  dataDir: string;
  clock: Clock;
  log: Logger;
  store: Store;
  runs: RunsRepo;
  alerts: AlertsRepo;
  scheduler: Scheduler;
  writeTick: Pick<WriteTick, 'add'>;
  notifier: SdNotifier;
  env?: NodeJS.ProcessEnv;
}

/**
 * The daemon's own run: the run record (clean vs unclean stops), the pid file that
 * `kampung-gw status` looks at, and the systemd watchdog, which is fed only when the event
 * loop turns and the database answers.
 */
export class RunService implements Service {
  readonly name = 'run';
  private readonly d: RunServiceDeps;
  private tasks: TaskHandle[] = [];
  private startedAt: string | null = null;
  private previousUnclean = false;
  private leaveTick: (() => void) | undefined;

  constructor(deps: RunServiceDeps) {
    this.d = deps;
  }

  start(): void {
    const { d } = this;
    const previous = d.runs.lastUnclean();
    if (previous) {
      this.previousUnclean = true;
      d.alerts.add(
        'unclean_shutdown',
        'warning',
        'the previous run did not stop cleanly (power cut or crash)',
        {
          run_id: previous.run_id,
          last_alive: new Date(previous.alive_wall).toISOString(),
          same_kernel_boot: previous.kernel_boot === d.clock.kernelBootId,
        },
      );
      d.log.warn({ previousRun: previous.run_id }, 'previous run ended uncleanly');
    }
    const run = d.runs.begin(d.runId, d.version);
    this.startedAt = new Date(run.started_wall).toISOString();
    writeFileSync(join(d.dataDir, PID_FILE), `${process.pid}\n`, { mode: 0o644 });

    // On the write tick (every 5 minutes), in the one periodic commit.
    this.leaveTick = d.writeTick.add({ name: 'run-alive', write: () => d.runs.alive(d.runId) });
    const watchdogMs = SdNotifier.watchdogIntervalMs(d.env);
    if (watchdogMs !== undefined) {
      this.tasks.push(
        d.scheduler.every({
          name: 'watchdog',
          coarse: true,
          intervalMs: Math.max(500, Math.floor(watchdogMs / 2)),
          initialDelayMs: 0,
          run: async () => {
            if (d.store.ping()) await d.notifier.watchdog();
          },
        }),
      );
    }
  }

  stop(): void {
    for (const t of this.tasks) t.cancel();
    this.tasks = [];
    this.leaveTick?.();
    this.leaveTick = undefined;
    this.d.runs.end(this.d.runId);
    rmSync(join(this.d.dataDir, PID_FILE), { force: true });
  }

  gatewayStatus(): GatewayStatus {
    return {
      id: this.d.gateway.id,
      name: this.d.gateway.name,
      version: this.d.version,
      boot: this.d.runId,
      started_at: this.startedAt,
      running: true,
      previous_run_unclean: this.previousUnclean,
    };
  }
}
