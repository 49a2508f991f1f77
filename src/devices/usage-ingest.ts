import type { Clock } from '../core/clock.js';
import { GwError, isDiskFull, isGwError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { GatewayBus } from '../events.js';
import type { Store } from '../store/store.js';
import { GroupCommitter } from './group-commit.js';
import type { UsageEvent } from './push-schemas.js';
import type { ReceiveStamp, StoredUsageEvent, UsageRepo } from './usage-repo.js';
import { WalSync } from './wal-sync.js';

export interface IngestResult {
  accepted: number;
  duplicates: number;
}

interface IngestRequest {
  deviceId: string;
  events: readonly UsageEvent[];
  stamp: ReceiveStamp;
}

/** Runs inside the durable transaction, e.g. so an outbox can enqueue in the same commit. */
export type TransactionHook = (deviceId: string, stored: readonly StoredUsageEvent[]) => void;

export interface UsageIngestDeps {
  store: Store;
  usage: UsageRepo;
  clock: Clock;
  bus: GatewayBus;
  log: Logger;
  runId: string;
  after(delayMs: number, fn: () => void): { cancel(): void };
  windowMs?: number;
  maxItems?: number;
  /**
   * How a group reaches the disk before its 202: 'full' = Store.durable() (synchronous=FULL,
   * the fsync blocks the event loop); 'wal-fsync' = commit at NORMAL, then fdatasync the WAL
   * on the thread pool (WalSync) — equally durable, the loop keeps serving meanwhile.
   */
  durability?: Durability;
  /** Run inside the commit for what it stored (the report module's outbox, same transaction). */
  hooks?: readonly TransactionHook[];
}

export type Durability = 'full' | 'wal-fsync';

type Result = { stored: StoredUsageEvent[]; duplicates: number };

/**
 * Usage events from kiosks: stored durably (group commit; see `durability`) before the 202,
 * then announced as `usage.stored`. A full disk is GW_ERR_STORE_FULL (507): nothing of that
 * group was stored, and the kiosk retries the same ids later.
 */
export class UsageIngest {
  private readonly d: UsageIngestDeps;
  private readonly committer: GroupCommitter<IngestRequest, Result>;
  private readonly hooks: readonly TransactionHook[];
  private readonly wal: WalSync | undefined;
  /** Events newly stored / answered as duplicates since start (for /metrics). */
  readonly totals = { accepted: 0, duplicates: 0 };

  constructor(deps: UsageIngestDeps) {
    this.d = deps;
    this.hooks = deps.hooks ?? [];
    this.wal = deps.durability === 'wal-fsync' ? new WalSync(deps.store.path) : undefined;
    this.committer = new GroupCommitter({
      windowMs: deps.windowMs ?? 0,
      maxItems: deps.maxItems ?? 2000,
      size: (r) => r.events.length,
      after: deps.after,
      commit: (requests) => this.commit(requests),
    });
  }

  get commits(): number {
    return this.committer.commitCount;
  }

  /** WAL fsyncs done on the thread pool ('wal-fsync' durability), else undefined. */
  get walSyncs(): number | undefined {
    return this.wal?.syncs;
  }

  async submit(deviceId: string, events: readonly UsageEvent[]): Promise<IngestResult> {
    const c = this.d.clock;
    const stamp: ReceiveStamp = {
      wall: c.wallMs(),
      mono: c.monoMs(),
      kernelBoot: c.kernelBootId,
      runId: this.d.runId,
      synced: c.synced(),
    };
    const r = await this.committer.submit({ deviceId, events, stamp });
    this.totals.accepted += r.stored.length;
    this.totals.duplicates += r.duplicates;
    return { accepted: r.stored.length, duplicates: r.duplicates };
  }

  /** Commits what waits and waits for its fsync; called at stop so no kiosk request hangs. */
  async flush(): Promise<void> {
    this.committer.flush();
    await this.wal?.close();
  }

  private commit(requests: readonly IngestRequest[]): Result[] | Promise<Result[]> {
    const results = this.write(requests);
    if (!this.wal) return this.announce(requests, results);
    return this.wal.sync().then(
      () => this.announce(requests, results),
      (err: unknown) => {
        this.d.log.error({ err }, 'WAL fsync failed: usage events not acknowledged');
        throw new GwError('GW_ERR_UNAVAILABLE', 'could not make the events durable', { cause: err });
      },
    );
  }

  private write(requests: readonly IngestRequest[]): Result[] {
    const { store } = this.d;
    const run = this.wal ? store.batch.bind(store) : store.durable.bind(store);
    try {
      return run(() =>
        requests.map((r) => {
          const res = this.d.usage.insert(r.deviceId, r.events, r.stamp);
          for (const hook of this.hooks) hook(r.deviceId, res.stored);
          return res;
        }),
      );
    } catch (err) {
      if (isDiskFull(err)) {
        this.d.log.error({ err }, 'usage events refused: disk full');
        throw new GwError('GW_ERR_STORE_FULL', undefined, { cause: err });
      }
      if (isGwError(err, 'GW_ERR_STORE_OPEN')) throw new GwError('GW_ERR_UNAVAILABLE', 'store is closed');
      throw err;
    }
  }

  /** After the events are durable: tell the other modules. */
  private announce(requests: readonly IngestRequest[], results: Result[]): Result[] {
    requests.forEach((r, i) => {
      const stored = results[i]?.stored ?? [];
      if (stored.length > 0) this.d.bus.emit('usage.stored', { device_id: r.deviceId, events: [...stored] });
    });
    return results;
  }
}
