import { randomUUID } from 'node:crypto';
import type { Logger } from '../core/logger.js';
import type { Scheduler, TaskHandle } from '../core/scheduler.js';

export interface DemoKiosk {
  id: string;
  token: string;
  /** Stops sending heartbeats after this many seconds (to show a kiosk going offline). */
  diesAfterS?: number;
}

const SERVICES = ['ktp-el', 'kartu-keluarga', 'akta-kelahiran', 'surat-pindah'];

/**
 * PLACEHOLDER until the devices branch's simulator (src/sim/kiosk-sim.ts) is merged: the
 * integrator replaces this file with it. Pushes heartbeats and usage events to the SPEC's
 * kiosk API with each kiosk's bearer token; answers other than 2xx are logged once, since
 * the push API may not exist yet on this branch.
 */
export class PlaceholderKiosks {
  private readonly d: { baseUrl: () => string; kiosks: DemoKiosk[]; scheduler: Scheduler; log: Logger };
  private tasks: TaskHandle[] = [];
  private warned = false;
  private readonly startedAt = performance.now();

  constructor(deps: PlaceholderKiosks['d']) {
    this.d = deps;
  }

  start(): void {
    for (const k of this.d.kiosks) {
      this.tasks.push(
        this.d.scheduler.every({
          name: `demo-kiosk-${k.id}`,
          intervalMs: 10_000,
          initialDelayMs: 500,
          jitterMs: 1000,
          run: (signal) => this.tick(k, signal),
        }),
      );
    }
  }

  stop(): void {
    for (const t of this.tasks) t.cancel();
    this.tasks = [];
  }

  private async tick(k: DemoKiosk, signal: AbortSignal): Promise<void> {
    const ageS = (performance.now() - this.startedAt) / 1000;
    if (k.diesAfterS !== undefined && ageS > k.diesAfterS) return;
    await this.post(
      k,
      'heartbeat',
      { status: 'ok', app_version: 'demo-1.0', uptime_s: Math.round(ageS) },
      signal,
    );
    const events = Array.from({ length: 1 + Math.floor(Math.random() * 3) }, () => ({
      id: randomUUID(),
      type: 'service_use',
      service: SERVICES[Math.floor(Math.random() * SERVICES.length)],
      outcome: 'ok',
      duration_ms: 20_000 + Math.floor(Math.random() * 90_000),
    }));
    await this.post(k, 'events', { events }, signal);
  }

  private async post(k: DemoKiosk, what: string, body: unknown, signal: AbortSignal): Promise<void> {
    try {
      const res = await fetch(`${this.d.baseUrl()}/api/v1/devices/${k.id}/${what}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${k.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal,
      });
      await res.arrayBuffer();
      if (!res.ok && !this.warned) {
        this.warned = true;
        this.d.log.warn(
          { status: res.status, what },
          'demo kiosk push refused (device push API not on this build?)',
        );
      }
    } catch (err) {
      if (!this.warned) {
        this.warned = true;
        this.d.log.warn({ err }, 'demo kiosk push failed');
      }
    }
  }
}
