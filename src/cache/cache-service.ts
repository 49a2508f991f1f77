import { join } from 'node:path';
import type { Clock } from '../core/clock.js';
import { GwError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Scheduler, TaskHandle } from '../core/scheduler.js';
import type { Service } from '../core/service.js';
import type { GatewayBus } from '../events.js';
import type { StatusSection } from '../status/types.js';
import type { SectionState } from '../store/live-snapshot.js';
import type { Store } from '../store/store.js';
import type { HeaderMap } from './cache-policy.js';
import { type CacheSection, CacheStats } from './cache-stats.js';
import { CacheStorage } from './cache-storage.js';
import type { CacheConfig } from './config-schema.js';
import type { DeviceAuth } from './device-auth.js';
import { BusLinkState, type LinkState } from './link-state.js';
import { OutboundQueue } from './outbound-queue.js';
import { OutboundRepo } from './outbound-repo.js';
import { ReadThrough } from './read-through.js';
import { UpstreamClient, UpstreamError, type UpstreamResponse } from './upstream-client.js';
import { buildUpstreams, type Upstream } from './upstreams.js';

const MB = 1024 * 1024;
/**
 * Hit counters and the status copy on disk: every 5 minutes (and at stop). Each write is a
 * commit of its own on the SD card; a kill -9 loses at most these minutes of counters.
 */
const PERSIST_EVERY_MS = 5 * 60_000;

export interface CacheServiceDeps {
  config: CacheConfig;
  /** Bodies are stored under dataDir/cache. */
  dataDir: string;
  log: Logger;
  clock: Clock;
  scheduler: Scheduler;
  store: Store;
  bus: GatewayBus;
  /** Device bearer tokens (the devices module's DeviceAuth, loaded before the cache starts). */
  auth: DeviceAuth;
  /** Where the status section is kept (the runtime directory's live snapshot). */
  state: SectionState;
  /** Uplink verdict; default: follows link.changed on the bus. */
  link?: LinkState;
}

export type RefreshReport = Record<
  string,
  { fetched: number; not_modified: number; failed: number; skipped?: 'link down' | 'running' }
>;

/**
 * The service-data cache and offline write queue behind /svc. Owns storage, the upstream
 * client, prefetch schedules and the periodic (not per-request) persistence of its status.
 */
export class CacheService implements Service, StatusSection<'cache'> {
  readonly name = 'cache';
  readonly section = 'cache' as const;
  readonly upstreams: ReadonlyMap<string, Upstream>;
  readonly auth: DeviceAuth;
  readonly reads: ReadThrough;
  readonly writes: OutboundQueue;
  private readonly deps: CacheServiceDeps;
  private readonly log: Logger;
  private readonly storage: CacheStorage;
  private readonly client: UpstreamClient;
  private readonly stats: CacheStats;
  private readonly outboundRepo: OutboundRepo;
  private readonly state: SectionState;
  private readonly busLink: BusLinkState | undefined;
  private readonly refreshing = new Set<string>();
  private cancels: Array<{ cancel(): void }> = [];
  private persistTask: TaskHandle | undefined;

  constructor(deps: CacheServiceDeps) {
    const { config: c, clock, scheduler, store } = deps;
    this.deps = deps;
    this.log = deps.log;
    // Bodies that are not stored are buffered whole, and one body may use a quarter of the
    // cache: cap them so one huge file can neither blow the memory budget nor the cache.
    this.client = new UpstreamClient({
      scheduler,
      maxBodyBytes: Math.min(16 * MB, Math.max(1 * MB, (c.max_mb * MB) / 4)),
    });
    this.upstreams = buildUpstreams(c.upstreams, { clock, log: this.log, client: this.client });
    this.auth = deps.auth;
    this.busLink = deps.link ? undefined : new BusLinkState({ bus: deps.bus });
    const link = deps.link ?? (this.busLink as BusLinkState);
    this.stats = new CacheStats(c.upstreams.map((u) => u.name));
    this.storage = new CacheStorage({
      store,
      clock,
      log: this.log,
      dir: join(deps.dataDir, 'cache'),
      maxBytes: c.max_mb * MB,
      hotBytes: c.memory_mb * MB,
    });
    this.reads = new ReadThrough({
      storage: this.storage,
      client: this.client,
      link,
      stats: this.stats,
      clock,
      log: this.log,
    });
    this.outboundRepo = new OutboundRepo({ store });
    this.state = deps.state;
    this.writes = new OutboundQueue({
      repo: this.outboundRepo,
      client: this.client,
      link,
      stats: this.stats,
      clock,
      scheduler,
      log: this.log,
      upstreams: this.upstreams,
      onDelivered: (up, path, res) => this.reads.invalidate(up, path, res),
      onFailed: (upstream, id, tries) =>
        deps.bus.emit('alert', {
          code: 'outbound_write_failed',
          severity: 'warning',
          message: `a queued kiosk write to ${upstream} was given up after ${tries} tries`,
          details: { upstream, id, tries },
        }),
      limits: {
        maxBytes: c.outbound.max_mb * MB,
        maxItems: c.outbound.max_items,
        maxTries: c.outbound.max_tries,
        maxBackoffMs: c.outbound.max_backoff_s * 1000,
      },
    });
  }

  /**
   * SIGHUP: every upstream's credentials file is read now rather than at the next request's
   * once-a-second check. Returns the upstreams whose file is unusable (the last good value stays).
   */
  reloadCredentials(): string[] {
    const bad: string[] = [];
    for (const up of this.upstreams.values())
      if (!up.checkCredentials()) bad.push(`cache.upstreams.${up.name}`);
    return bad;
  }

  start(): void {
    // Told at start, not at the first kiosk request (the path is logged, never the content).
    for (const up of this.upstreams.values()) up.checkCredentials();
    this.storage.start();
    this.stats.seed(this.state.get<CacheSection>('cache')?.value);
    this.busLink?.onRecovered(() => this.writes.retryAll());
    this.busLink?.start();
    this.writes.start();
    const { scheduler } = this.deps;
    this.persistTask = scheduler.every({
      name: 'cache-persist',
      coarse: true,
      intervalMs: PERSIST_EVERY_MS,
      jitterMs: 5_000,
      run: () => this.persist(),
    });
    for (const up of this.upstreams.values()) {
      const { prefetch_cron } = up.config;
      if (up.prefetch.length === 0) continue;
      if (prefetch_cron) {
        this.cancels.push(
          scheduler.cron({
            name: `prefetch-${up.name}`,
            expression: prefetch_cron,
            // 200 villages on the same cron line must not hit the regency server in the same second.
            jitterMs: 60_000,
            timeoutMs: 10 * 60_000,
            run: async () => void (await this.refreshOne(up)),
          }),
        );
      }
      // A freshly started box fills its cache soon, not at the next cron slot.
      this.cancels.push(
        scheduler.after(`prefetch-${up.name}-boot`, 5_000 + Math.floor(Math.random() * 25_000), () => {
          void this.refreshOne(up);
        }),
      );
    }
  }

  stop(): void {
    for (const c of this.cancels) c.cancel();
    this.cancels = [];
    this.persistTask?.cancel();
    this.writes.stop();
    this.busLink?.stop();
    this.client.destroy();
    try {
      this.persist();
    } catch (err) {
      this.log.warn({ err }, 'could not persist cache status at stop');
    }
  }

  live(): CacheSection {
    return {
      entries: this.storage.entries,
      bytes: this.storage.bytes,
      upstreams: this.stats.snapshot(),
      outbound: this.outboundRepo.totals(),
    };
  }

  /** The refresh-cache action/command: revalidate every prefetch path now (conditional requests). */
  async refreshCache(upstream?: string): Promise<RefreshReport> {
    const report: RefreshReport = {};
    for (const up of this.upstreams.values()) {
      if (upstream && up.name !== upstream) continue;
      report[up.name] = await this.refreshOne(up);
    }
    return report;
  }

  /**
   * A request passed through untouched by cache or queue (OPTIONS): the kiosk's end-to-end
   * fields plus the upstream's credentials, the answer relayed; 504 when it does not answer.
   */
  async pass(
    up: Upstream,
    method: string,
    pathAndQuery: string,
    headers: HeaderMap,
    body: Buffer | undefined,
  ): Promise<UpstreamResponse> {
    if (this.reads.linkDown())
      throw new GwError('GW_ERR_UPSTREAM_UNAVAILABLE', `upstream ${up.name} unavailable (link down)`);
    try {
      const res = await this.client.request({
        url: up.url(pathAndQuery),
        method,
        headers: { ...headers, ...(await up.credentials()) },
        body,
        timeoutMs: up.config.timeout_ms,
      });
      up.rejected(res.status);
      return res;
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err;
      const code = err.kind === 'too_large' ? 'GW_ERR_UPSTREAM_BAD_RESPONSE' : 'GW_ERR_UPSTREAM_UNAVAILABLE';
      throw new GwError(code, `upstream ${up.name} did not answer (${err.kind})`);
    }
  }

  /** The wipe action: every stored body and entry deleted (queued writes are kept: they are owed). */
  wipe(): { entries_removed: number } {
    const n = this.storage.wipe();
    this.stats.markChanged();
    this.log.info({ entries: n }, 'cache wiped');
    return { entries_removed: n };
  }

  private async refreshOne(up: Upstream): Promise<RefreshReport[string]> {
    const r: RefreshReport[string] = { fetched: 0, not_modified: 0, failed: 0 };
    if (this.refreshing.has(up.name)) return { ...r, skipped: 'running' };
    if (this.reads.linkDown()) return { ...r, skipped: 'link down' };
    this.refreshing.add(up.name);
    try {
      for (const path of up.prefetch) r[await this.reads.refresh(up, path)] += 1;
    } finally {
      this.refreshing.delete(up.name);
    }
    if (r.fetched + r.not_modified > 0)
      this.stats.refreshed(up.name, new Date(this.deps.clock.wallMs()).toISOString());
    this.log.info({ upstream: up.name, ...r }, 'prefetch done');
    return r;
  }

  private persist(): void {
    this.storage.flush();
    const keepMs = this.deps.config.outbound.keep_days * 86_400_000;
    this.outboundRepo.prune(this.deps.clock.wallMs() - keepMs);
    if (!this.stats.takeChanged()) return;
    const section = this.live();
    this.state.put('cache', section, this.deps.clock.wallMs());
  }
}
