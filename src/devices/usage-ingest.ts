import type { Clock } from '../core/clock.js';
import { GwError, isDiskFull, isGwError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { GatewayBus } from '../events.js';
import type { Store } from '../store/store.js';
import { GroupCommitter } from './group-commit.js';
import type { UsageEvent } from './push-schemas.js';
import type { ReceiveStamp, StoredUsageEvent, UsageRepo } from './usage-repo.js';

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
}

/**
 * Usage events from kiosks: stored durably (group commit, synchronous=FULL) before the 202,
 * then announced as `usage.stored`. A full disk is GW_ERR_STORE_FULL (507): nothing of that
 * group was stored, and the kiosk retries the same ids later.
 */
export class UsageIngest {
  private readonly d: UsageIngestDeps;
  private readonly committer: GroupCommitter<
    IngestRequest,
    { stored: StoredUsageEvent[]; duplicates: number }
  >;
  private readonly hooks: TransactionHook[] = [];

  constructor(deps: UsageIngestDeps) {
    this.d = deps;
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

  addTransactionHook(hook: TransactionHook): void {
    this.hooks.push(hook);
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
    return { accepted: r.stored.length, duplicates: r.duplicates };
  }

  /** Commits what waits; called at stop so no kiosk request hangs. */
  flush(): void {
    this.committer.flush();
  }

  private commit(requests: readonly IngestRequest[]) {
    let results: Array<{ stored: StoredUsageEvent[]; duplicates: number }>;
    try {
      results = this.d.store.durable(() =>
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
    requests.forEach((r, i) => {
      const stored = results[i]?.stored ?? [];
      if (stored.length > 0) this.d.bus.emit('usage.stored', { device_id: r.deviceId, events: [...stored] });
    });
    return results;
  }
}
