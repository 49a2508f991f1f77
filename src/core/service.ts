import { GwError } from './errors.js';
import type { Logger } from './logger.js';

/**
 * A part of the daemon with a lifetime. Constructors only assign; `start()` acquires
 * (opens files, arms timers, listens); `stop()` releases exactly what start acquired.
 */
export interface Service {
  readonly name: string;
  start(): Promise<void> | void;
  stop(): Promise<void> | void;
}

export interface LifecycleOptions {
  log: Logger;
  /** Deadline for one service's stop(). */
  stepTimeoutMs?: number;
  /** Deadline for the whole stop sequence (systemd's TimeoutStopSec is larger). */
  totalTimeoutMs?: number;
}

/** Starts services in order and stops the started ones in reverse, each step time-boxed. */
export class Lifecycle {
  private readonly services: Service[];
  private readonly started: Service[] = [];
  private readonly log: Logger;
  private readonly stepTimeoutMs: number;
  private readonly totalTimeoutMs: number;

  constructor(services: Service[], options: LifecycleOptions) {
    this.services = services;
    this.log = options.log;
    this.stepTimeoutMs = options.stepTimeoutMs ?? 3000;
    this.totalTimeoutMs = options.totalTimeoutMs ?? 9000;
  }

  async start(): Promise<void> {
    for (const service of this.services) {
      const t0 = performance.now();
      try {
        await service.start();
      } catch (err) {
        throw new GwError('GW_ERR_SERVICE_START', `${service.name} failed to start`, { cause: err });
      }
      this.started.push(service);
      this.log.debug({ service: service.name, ms: Math.round(performance.now() - t0) }, 'service started');
    }
  }

  /** Never throws: a service that fails or hangs is logged and skipped. Returns the failures. */
  async stop(): Promise<string[]> {
    const failed: string[] = [];
    const deadline = performance.now() + this.totalTimeoutMs;
    while (this.started.length > 0) {
      const service = this.started.pop()!;
      const budget = Math.max(100, Math.min(this.stepTimeoutMs, deadline - performance.now()));
      try {
        await withTimeout(
          Promise.resolve().then(() => service.stop()),
          budget,
        );
        this.log.debug({ service: service.name }, 'service stopped');
      } catch (err) {
        failed.push(service.name);
        this.log.error({ err, service: service.name, budgetMs: Math.round(budget) }, 'service stop failed');
      }
    }
    return failed;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new GwError('GW_ERR_SERVICE_STOP_TIMEOUT', `no stop within ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
