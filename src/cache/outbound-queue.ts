import { randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { GwError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Scheduler } from '../core/scheduler.js';
import type { HeaderMap } from './cache-policy.js';
import type { CacheStats } from './cache-stats.js';
import type { LinkState } from './link-state.js';
import type { OutboundRepo, OutboundRow, OutboundState } from './outbound-repo.js';
import { type UpstreamClient, UpstreamError, type UpstreamResponse } from './upstream-client.js';
import type { Upstream } from './upstreams.js';

export interface WriteRequest {
  up: Upstream;
  method: WriteMethod;
  pathAndQuery: string;
  /** The kiosk's end-to-end fields (forwardHeaders), stored with a queued write. */
  headers: HeaderMap;
  /** Required where the write may be queued (offline_writes); else forwarded as the kiosk sent it. */
  idemKey: string | undefined;
  body: Buffer | undefined;
  deviceId: string;
}

export type WriteMethod = 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export type WriteOutcome =
  | { kind: 'forwarded'; response: UpstreamResponse }
  | { kind: 'queued'; id: string; state: OutboundState };

export interface OutboundLimits {
  maxBytes: number;
  maxItems: number;
  maxTries: number;
  maxBackoffMs: number;
}

/** Gateway-ish answers that mean "not processed, try later" rather than the service's verdict. */
const RETRY_STATUS = new Set([502, 503, 504]);
const RESULT_MAX = 256 * 1024;

/**
 * Offline writes. Forwarded at once while the upstream answers and nothing is queued ahead;
 * otherwise stored durably and delivered later per upstream strictly in arrival order (the
 * head blocks the rest), always with the kiosk's Idempotency-Key, so an upstream honouring
 * the key applies each write once even when an answer is lost and the write is re-sent.
 */
export class OutboundQueue {
  private readonly repo: OutboundRepo;
  private readonly client: UpstreamClient;
  private readonly link: LinkState;
  private readonly stats: CacheStats;
  private readonly clock: Clock;
  private readonly scheduler: Scheduler;
  private readonly log: Logger;
  private readonly limits: OutboundLimits;
  private readonly upstreams: ReadonlyMap<string, Upstream>;
  private readonly onFailed: (upstream: string, id: string, tries: number) => void;
  private readonly onDelivered: (up: Upstream, pathAndQuery: string, res: UpstreamResponse) => void;
  private readonly lanes = new Map<string, { running: boolean; timer?: { cancel(): void } }>();
  private stopped = false;

  constructor(deps: {
    repo: OutboundRepo;
    client: UpstreamClient;
    link: LinkState;
    stats: CacheStats;
    clock: Clock;
    scheduler: Scheduler;
    log: Logger;
    limits: OutboundLimits;
    upstreams: ReadonlyMap<string, Upstream>;
    /** A write was given up after max_tries (the service raises an alert). */
    onFailed?: (upstream: string, id: string, tries: number) => void;
    /** The upstream answered a write (now or from the queue): stored reads it affects go (RFC 9111 4.4). */
    onDelivered?: (up: Upstream, pathAndQuery: string, res: UpstreamResponse) => void;
  }) {
    this.onDelivered = deps.onDelivered ?? (() => undefined);
    this.onFailed = deps.onFailed ?? (() => undefined);
    this.repo = deps.repo;
    this.client = deps.client;
    this.link = deps.link;
    this.stats = deps.stats;
    this.clock = deps.clock;
    this.scheduler = deps.scheduler;
    this.log = deps.log;
    this.limits = deps.limits;
    this.upstreams = deps.upstreams;
  }

  start(): void {
    this.stopped = false;
    for (const name of this.repo.queuedUpstreams()) this.kick(name, 500);
  }

  stop(): void {
    this.stopped = true;
    for (const lane of this.lanes.values()) lane.timer?.cancel();
    this.lanes.clear();
  }

  /** Retry every lane now (the link came back). */
  retryAll(): void {
    for (const name of this.repo.queuedUpstreams()) this.kick(name, 0, true);
  }

  async submit(w: WriteRequest): Promise<WriteOutcome> {
    const queueable = w.up.config.offline_writes && w.idemKey !== undefined;
    const known = queueable && w.idemKey !== undefined ? this.repo.byKey(w.up.name, w.idemKey) : undefined;
    // The kiosk re-sent a write we already hold: same answer, never a second copy.
    if (known) return { kind: 'queued', id: known.id, state: known.state };
    const mustQueue = this.link.isDown() || (queueable && this.repo.hasQueued(w.up.name));
    if (!mustQueue) {
      try {
        const response = await this.client.request({
          url: w.up.url(w.pathAndQuery),
          method: w.method,
          headers: {
            ...w.headers,
            ...(w.idemKey === undefined ? {} : { 'idempotency-key': w.idemKey }),
            ...(await w.up.credentials()),
          },
          body: w.body,
          timeoutMs: w.up.config.timeout_ms,
        });
        w.up.rejected(response.status);
        if (!RETRY_STATUS.has(response.status) || !queueable) {
          this.onDelivered(w.up, w.pathAndQuery, response);
          return { kind: 'forwarded', response };
        }
      } catch (err) {
        if (!(err instanceof UpstreamError)) throw err;
        if (err.kind === 'too_large')
          throw new GwError('GW_ERR_UPSTREAM_BAD_RESPONSE', 'upstream answer too large');
      }
    }
    if (!queueable || w.idemKey === undefined)
      throw new GwError(
        'GW_ERR_UPSTREAM_UNAVAILABLE',
        `upstream ${w.up.name} unreachable; offline writes are off`,
      );
    return { kind: 'queued', id: this.enqueue(w, w.idemKey), state: 'queued' };
  }

  status(id: string): OutboundRow | undefined {
    return this.repo.byId(id);
  }

  private enqueue(w: WriteRequest, idemKey: string): string {
    const size = w.body?.length ?? 0;
    const t = this.repo.totals();
    if (t.depth >= this.limits.maxItems || t.bytes + size > this.limits.maxBytes)
      throw new GwError('GW_ERR_QUEUE_FULL', 'offline write queue is full');
    const id = randomUUID();
    this.repo.insert({
      id,
      upstream: w.up.name,
      idem_key: idemKey,
      device_id: w.deviceId,
      method: w.method,
      path: w.pathAndQuery,
      headers: JSON.stringify(w.headers),
      body: w.body ?? null,
      created_wall: this.clock.wallMs(),
    });
    this.stats.bump(w.up.name, 'outbound_queued');
    this.log.info({ upstream: w.up.name, id, size }, 'write queued for later delivery');
    this.kick(w.up.name, 1000);
    return id;
  }

  private kick(name: string, delayMs: number, replace = false): void {
    if (this.stopped) return;
    const lane = this.lanes.get(name) ?? { running: false };
    this.lanes.set(name, lane);
    if (lane.running) return;
    if (lane.timer && !replace) return;
    lane.timer?.cancel();
    lane.timer = this.scheduler.after(`outbound-${name}`, delayMs, () => {
      lane.timer = undefined;
      void this.drain(name, lane);
    });
  }

  private async drain(name: string, lane: { running: boolean }): Promise<void> {
    const up = this.upstreams.get(name);
    if (!up || this.stopped) return;
    lane.running = true;
    let retryIn: number | undefined;
    try {
      for (let head = this.repo.head(name); head && !this.stopped; head = this.repo.head(name)) {
        if (this.link.isDown()) {
          retryIn = this.limits.maxBackoffMs;
          break;
        }
        const wait = await this.deliver(up, head);
        if (wait !== undefined) {
          retryIn = wait;
          break;
        }
      }
    } catch (err) {
      this.log.error({ err, upstream: name }, 'outbound delivery failed');
      retryIn = this.limits.maxBackoffMs;
    } finally {
      lane.running = false;
    }
    if (retryIn !== undefined) this.kick(name, retryIn);
  }

  /** One attempt at the head; returns a delay when the lane must wait, undefined to go on. */
  private async deliver(up: Upstream, row: OutboundRow): Promise<number | undefined> {
    const tries = row.tries + 1;
    let error: string;
    try {
      const res = await this.client.request({
        url: up.url(row.path),
        method: row.method,
        // Credentials are added at each attempt, never stored with the write: a rotated token
        // file applies to writes queued before the rotation.
        headers: {
          ...(JSON.parse(row.headers) as HeaderMap),
          'idempotency-key': row.idem_key,
          ...(await up.credentials()),
        },
        body: row.body ?? undefined,
        timeoutMs: Math.max(10_000, up.config.timeout_ms),
      });
      up.rejected(res.status);
      if (this.stopped) return 0;
      if (!RETRY_STATUS.has(res.status)) {
        this.repo.finish(row.seq, 'delivered', {
          tries,
          wall: this.clock.wallMs(),
          status: res.status,
          type: res.headers['content-type'] ?? 'application/octet-stream',
          body: res.body.subarray(0, RESULT_MAX),
        });
        this.stats.bump(up.name, 'outbound_delivered');
        this.onDelivered(up, row.path, res);
        return undefined;
      }
      error = `status ${res.status}`;
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err;
      if (this.stopped) return 0;
      error = err.kind;
    }
    if (tries >= this.limits.maxTries) {
      this.repo.finish(row.seq, 'failed', { tries, wall: this.clock.wallMs(), error });
      this.stats.bump(up.name, 'outbound_failed');
      this.log.warn({ upstream: up.name, id: row.id, tries }, 'queued write failed for good');
      this.onFailed(up.name, row.id, tries);
      return undefined;
    }
    this.repo.attemptFailed(row.seq, tries, error);
    const base = Math.min(this.limits.maxBackoffMs, 1000 * 2 ** Math.min(tries - 1, 20));
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }
}
