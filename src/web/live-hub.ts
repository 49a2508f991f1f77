import type { ServerResponse } from 'node:http';
import type { Logger } from '../core/logger.js';
import type { Scheduler, TaskHandle } from '../core/scheduler.js';
import type { Service } from '../core/service.js';
import type { GatewayBus, GatewayEvents } from '../events.js';
import type { StatusObject } from '../status/types.js';

export const MAX_CLIENTS = 8;
const TICK_MS = 5000;

interface Client {
  res: ServerResponse;
  /** False once the client's session has ended; it is then told and closed. */
  alive(): boolean;
}

/** Bus events forwarded to the page as SSE events of the same name. */
const FORWARDED: Array<keyof GatewayEvents> = ['link.changed', 'device.changed', 'outage.ended', 'alert'];

/**
 * The page's live feed (Server-Sent Events): a status snapshot on connect and every few
 * seconds (which doubles as the heartbeat the page uses to notice a silent daemon), plus
 * bus events as they happen. Bounded number of clients; each is dropped when its socket
 * closes or its session expires.
 */
export class LiveHub implements Service {
  readonly name = 'live';
  private readonly d: {
    bus: GatewayBus;
    scheduler: Scheduler;
    log: Logger;
    snapshot(): StatusObject;
    wallMs(): number;
  };
  private readonly clients = new Set<Client>();
  private readonly unsubscribe: Array<() => void> = [];
  private task: TaskHandle | undefined;

  constructor(deps: LiveHub['d']) {
    this.d = deps;
  }

  get size(): number {
    return this.clients.size;
  }

  start(): void {
    for (const event of FORWARDED) {
      this.unsubscribe.push(this.d.bus.on(event, (payload) => this.broadcast(event, payload)));
    }
    this.task = this.d.scheduler.every({
      name: 'live-status',
      coarse: true,
      intervalMs: TICK_MS,
      initialDelayMs: TICK_MS,
      run: () => this.tick(),
    });
  }

  stop(): void {
    this.task?.cancel();
    for (const u of this.unsubscribe.splice(0)) u();
    for (const c of this.clients) c.res.end();
    this.clients.clear();
  }

  full(): boolean {
    return this.clients.size >= MAX_CLIENTS;
  }

  /** Takes over a hijacked response. */
  add(res: ServerResponse, alive: () => boolean): void {
    const client: Client = { res, alive };
    this.clients.add(client);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(`retry: 3000\n\n`);
    this.send(client, frame('status', this.statusPayload()));
    const drop = () => this.clients.delete(client);
    res.on('close', drop);
    res.on('error', drop);
  }

  broadcast(event: string, payload: unknown): void {
    if (this.clients.size === 0) return;
    const text = frame(event, payload);
    for (const c of [...this.clients]) this.send(c, text);
  }

  private tick(): void {
    if (this.clients.size === 0) return;
    const text = frame('status', this.statusPayload());
    for (const c of [...this.clients]) {
      if (!c.alive()) {
        this.send(c, frame('expired', {}));
        c.res.end();
        this.clients.delete(c);
        continue;
      }
      this.send(c, text);
    }
  }

  private statusPayload() {
    return { at: new Date(this.d.wallMs()).toISOString(), status: this.d.snapshot() };
  }

  /** Writes one already-serialised frame (serialised once for all clients). */
  private send(c: Client, text: string): void {
    if (c.res.writableEnded || c.res.destroyed) {
      this.clients.delete(c);
      return;
    }
    // A client that cannot keep up (slow WiFi) is dropped rather than buffered without bound.
    if (c.res.writableLength > 256 * 1024) {
      this.d.log.debug('dropping a live client that does not keep up');
      c.res.destroy();
      this.clients.delete(c);
      return;
    }
    c.res.write(text);
  }
}

function frame(event: string, payload: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`;
}
