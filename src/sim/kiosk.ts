import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pickOutcome, pickService } from './services.js';

export interface KioskTelemetry {
  paper: 'ok' | 'low' | 'out';
  printer: 'ok' | 'error' | 'offline' | 'absent';
  card_reader: 'ok' | 'error' | 'absent';
  free_disk_mb: number;
}

export interface KioskOptions {
  /** Gateway base URL, e.g. http://127.0.0.1:8080 (may be changed while running). */
  gateway: string;
  deviceId: string;
  token: string;
  /** Usage events generated per second (0: only what `enqueue` adds). */
  rate?: number;
  /** Events per request, at most (the API allows 500). */
  batchMax?: number;
  heartbeatMs?: number;
  /** Port of the kiosk's own GET /health (0: any free port; null: no health endpoint). */
  healthPort?: number | null;
  host?: string;
  /** Events waiting beyond this are not generated (a real kiosk's local queue is bounded). */
  maxQueued?: number;
  requestTimeoutMs?: number;
  /** Keep every acknowledged id (tests); off for long benchmark runs. */
  trackIds?: boolean;
  /** Chance to send an acknowledged batch again, as if its 202 had been lost on the way. */
  replayProbability?: number;
  /** Longest wait between retries (the wait doubles from 50 ms after each failure). */
  maxBackoffMs?: number;
}

export interface KioskStats {
  generated: number;
  accepted: number;
  duplicates: number;
  acknowledged: number;
  retries: number;
  rejected: number;
  heartbeats: number;
  heartbeatFailures: number;
  queued: number;
}

interface PendingEvent {
  id: string;
  type: 'service_use';
  service: string;
  at: string;
  outcome: string;
  duration_ms: number;
}

/**
 * A simulated self-service kiosk: serves GET /health, pushes heartbeats with telemetry and
 * usage events to the gateway. A batch that was not answered 202 is retried with the SAME
 * ids (a timeout may hide a commit), so the gateway must deduplicate. Standalone test tool,
 * not part of the daemon: it uses plain timers.
 */
export class KioskSim {
  gateway: string;
  readonly deviceId: string;
  readonly acked = new Set<string>();
  readonly telemetry: KioskTelemetry = {
    paper: 'ok',
    printer: 'ok',
    card_reader: 'ok',
    free_disk_mb: 12_000,
  };
  status: 'ok' | 'degraded' | 'error' = 'ok';
  errors: Array<{ code: string; message?: string }> = [];
  private readonly o: Required<Omit<KioskOptions, 'healthPort'>> & { healthPort: number | null };
  private readonly queue: PendingEvent[] = [];
  private inflight: PendingEvent[] | undefined;
  private health: Server | undefined;
  private healthPortBound = 0;
  private timers: NodeJS.Timeout[] = [];
  private running = false;
  private carry = 0;
  private backoffMs = 0;
  private replaying = false;
  private wake: (() => void) | undefined;
  private pumpDone: Promise<void> | undefined;
  private readonly startedAt = Date.now();
  readonly stats: KioskStats = {
    generated: 0,
    accepted: 0,
    duplicates: 0,
    acknowledged: 0,
    retries: 0,
    rejected: 0,
    heartbeats: 0,
    heartbeatFailures: 0,
    queued: 0,
  };

  constructor(options: KioskOptions) {
    this.gateway = options.gateway;
    this.deviceId = options.deviceId;
    this.o = {
      rate: 0,
      batchMax: 20,
      heartbeatMs: 10_000,
      host: '127.0.0.1',
      maxQueued: 50_000,
      requestTimeoutMs: 5_000,
      trackIds: true,
      replayProbability: 0,
      maxBackoffMs: 2000,
      ...options,
      healthPort: options.healthPort === undefined ? 0 : options.healthPort,
    };
  }

  /** URL of this kiosk's health endpoint (after start). */
  get healthUrl(): string {
    return `http://${this.o.host}:${this.healthPortBound}/health`;
  }

  async start(): Promise<void> {
    if (this.o.healthPort !== null) await this.startHealth();
    this.running = true;
    if (this.o.rate > 0) {
      const tickMs = Math.max(10, Math.min(200, 1000 / this.o.rate));
      this.timers.push(setInterval(() => this.generate(tickMs), tickMs));
    }
    if (this.o.heartbeatMs > 0) {
      void this.heartbeat();
      this.timers.push(setInterval(() => void this.heartbeat(), this.o.heartbeatMs));
    }
    this.pumpDone = this.pump();
  }

  /** Stops generating events and heartbeats; what is queued is still delivered. */
  pause(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  async stop(): Promise<void> {
    this.running = false;
    this.pause();
    this.wake?.();
    await this.pumpDone;
    await this.stopHealth();
  }

  async startHealth(): Promise<void> {
    if (this.health) return;
    const server = createServer((req, res) => {
      const ok = req.url === '/health';
      res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json' });
      res.end(
        ok ? JSON.stringify({ ok: true, uptime_s: Math.round((Date.now() - this.startedAt) / 1000) }) : '{}',
      );
    });
    server.keepAliveTimeout = 1000;
    // Reuse the first port so the gateway's configured check URL stays valid after a restart.
    const port = this.healthPortBound || (this.o.healthPort ?? 0);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.o.host, () => resolve());
    });
    this.healthPortBound = (server.address() as AddressInfo).port;
    this.health = server;
  }

  async stopHealth(): Promise<void> {
    const server = this.health;
    if (!server) return;
    this.health = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Adds n events now; returns their ids. */
  enqueue(n: number): string[] {
    const ids: string[] = [];
    for (let i = 0; i < n && this.queue.length < this.o.maxQueued; i++) {
      const e: PendingEvent = {
        id: randomUUID(),
        type: 'service_use',
        service: pickService(),
        at: new Date().toISOString(),
        outcome: pickOutcome(),
        duration_ms: 20_000 + Math.floor(Math.random() * 280_000),
      };
      this.queue.push(e);
      ids.push(e.id);
    }
    this.stats.generated += ids.length;
    this.stats.queued = this.queue.length;
    this.wake?.();
    return ids;
  }

  /** Resolves true once every generated event is acknowledged (or false at the deadline). */
  async drain(timeoutMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.unacknowledged > 0) {
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
    return true;
  }

  /** Events not yet acknowledged (queued or in flight). */
  get unacknowledged(): number {
    return this.queue.length + (this.inflight?.length ?? 0);
  }

  async heartbeat(): Promise<number> {
    const body = {
      status: this.status,
      app_version: '2.4.1',
      uptime_s: Math.round((Date.now() - this.startedAt) / 1000),
      telemetry: { ...this.telemetry },
      ...(this.errors.length > 0 ? { errors: this.errors } : {}),
    };
    try {
      const res = await this.post('heartbeat', body);
      await res.arrayBuffer();
      if (res.status === 204) this.stats.heartbeats++;
      else this.stats.heartbeatFailures++;
      return res.status;
    } catch {
      this.stats.heartbeatFailures++;
      return 0;
    }
  }

  private generate(tickMs: number): void {
    this.carry += (this.o.rate * tickMs) / 1000;
    const n = Math.floor(this.carry);
    this.carry -= n;
    if (n > 0) this.enqueue(n);
  }

  private async pump(): Promise<void> {
    while (this.running) {
      if (!this.inflight) {
        if (this.queue.length === 0) {
          await new Promise<void>((resolve) => {
            this.wake = resolve;
          });
          this.wake = undefined;
          continue;
        }
        this.inflight = this.queue.splice(0, this.o.batchMax);
        this.stats.queued = this.queue.length;
      }
      await this.sendInflight();
      if (this.backoffMs > 0 && this.running) await new Promise((r) => setTimeout(r, this.backoffMs));
    }
  }

  private async sendInflight(): Promise<void> {
    const batch = this.inflight;
    if (!batch) return;
    let status = 0;
    try {
      const res = await this.post('events', { events: batch });
      status = res.status;
      const body = (await res.json().catch(() => ({}))) as { accepted?: number; duplicates?: number };
      if (status === 202) {
        this.stats.accepted += body.accepted ?? 0;
        this.stats.duplicates += body.duplicates ?? 0;
        if (!this.replaying) this.stats.acknowledged += batch.length;
        if (this.o.trackIds) for (const e of batch) this.acked.add(e.id);
        this.backoffMs = 0;
        if (Math.random() < this.o.replayProbability) {
          this.stats.retries++;
          this.replaying = true;
          return;
        }
        this.inflight = undefined;
        this.replaying = false;
        return;
      }
    } catch {
      // connection refused / reset / timeout: unknown whether it was stored; retry same ids
    }
    if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
      // The gateway refused the batch as such (401, 404, 413, 422): retrying cannot help.
      this.stats.rejected += batch.length;
      this.inflight = undefined;
      return;
    }
    this.stats.retries++;
    this.backoffMs = Math.min(this.o.maxBackoffMs, this.backoffMs ? this.backoffMs * 2 : 50);
  }

  private post(kind: 'heartbeat' | 'events', body: unknown): Promise<Response> {
    return fetch(`${this.gateway}/api/v1/devices/${this.deviceId}/${kind}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.o.token}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(this.o.requestTimeoutMs),
    });
  }
}
