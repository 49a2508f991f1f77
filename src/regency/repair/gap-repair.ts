import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { Scheduler, TaskHandle } from '../../core/scheduler.js';
import type { Service } from '../../core/service.js';
import { remoteCommand } from '../../report/command-names.js';
import { MAX_RESEND_RANGES, MAX_RESEND_SEQS, missingOf, type SeqRange } from '../../report/resend-args.js';
import type { CommandClient } from '../commands/command-client.js';
import type { AuditRepo } from '../store/audit-repo.js';
import type { DueGap, RepairRepo } from '../store/repair-repo.js';

export interface GapRepairDeps {
  repo: RepairRepo;
  client: Pick<CommandClient, 'newId' | 'send' | 'connected'>;
  audit: AuditRepo;
  clock: Clock;
  scheduler: Scheduler;
  log: Logger;
  /** completeness.repair_after_s in ms: a gap younger than this may still be reordering. */
  repairAfterMs: number;
  /** How long to wait for a village's reply (commands.timeout_s). */
  timeoutMs: number;
  /** Requests in flight across the fleet (rate limit); default 4. */
  concurrency?: number;
}

/** The longest wait between two requests for the same gap. */
const MAX_BACKOFF_MS = 6 * 3600_000;
/** Gaps read per round: enough for many villages, bounded for a large backlog. */
const GAPS_PER_ROUND = 2000;

/**
 * The regency's gap repair: open seq gaps older than repair_after_s are asked for with the
 * gateway's `resend`, per village (its gaps as ranges, within the command's bounds), at most
 * one request per village and `concurrency` across the fleet at once. A claim is written
 * before each request (asks + 1, not again before an exponential backoff), so an answer that
 * never comes, or envelopes lost again on the way, simply lead to a later request. The
 * envelopes the gateway republishes close the gaps through ingest (repaired); the seqs it
 * answers `missing` become unrepairable. Every request is audited like a person's command,
 * with the actor `gap-repair`.
 */
export class GapRepair implements Service {
  readonly name = 'gap-repair';
  private readonly d: GapRepairDeps;
  private task: TaskHandle | undefined;
  private readonly inflight = new Set<string>();
  private running = false;

  constructor(deps: GapRepairDeps) {
    this.d = deps;
  }

  start(): void {
    const every = Math.min(30_000, Math.max(1000, Math.floor(this.d.repairAfterMs / 2)));
    this.task = this.d.scheduler.every({
      name: 'gap-repair',
      coarse: true,
      intervalMs: every,
      run: () => this.round(),
    });
  }

  stop(): void {
    this.task?.cancel();
    this.task = undefined;
  }

  /** One pass: claims and sends what is due (not awaiting the replies). */
  async round(): Promise<void> {
    if (this.running || !this.d.client.connected) return;
    this.running = true;
    try {
      const now = this.d.clock.wallMs();
      const due = await this.d.repo.due(now, now - this.d.repairAfterMs, GAPS_PER_ROUND);
      const limit = this.d.concurrency ?? 4;
      for (const [gw, gaps] of due) {
        if (this.inflight.size >= limit) break;
        if (this.inflight.has(gw)) continue;
        this.inflight.add(gw);
        try {
          void this.ask(gw, gaps, now).finally(() => this.inflight.delete(gw));
        } catch {
          this.inflight.delete(gw);
        }
      }
    } catch (err) {
      this.d.log.warn({ err }, 'gap repair round failed');
    } finally {
      this.running = false;
    }
  }

  private async ask(gw: string, due: DueGap[], now: number): Promise<void> {
    const { gaps, ranges } = bounded(due);
    const asks = Math.max(...gaps.map((g) => g.asks));
    const backoff = Math.min(MAX_BACKOFF_MS, this.d.repairAfterMs * 2 ** Math.min(asks, 20));
    const claimed = await this.d.repo.claim(gw, gaps, now, now + Math.max(backoff, this.d.timeoutMs));
    if (claimed.length === 0) return;
    const mine = ranges.filter((_, i) => claimed.includes((gaps[i] as DueGap).id));
    const id = this.d.client.newId();
    const args = { ranges: mine };
    await this.d.audit.begin({ id, atMs: now, actor: 'gap-repair', gw, name: 'resend', args });
    let outcome: Awaited<ReturnType<CommandClient['send']>>;
    try {
      outcome = await this.d.client.send(id, gw, remoteCommand('resend'), args, this.d.timeoutMs);
    } catch (err) {
      await this.d.audit.finish(id, 'unsent', undefined, this.d.clock.wallMs());
      this.d.log.warn({ err, gw }, 'gap repair request not sent');
      return;
    }
    const at = this.d.clock.wallMs();
    if (!outcome.answered) {
      await this.d.audit.finish(id, 'timeout', undefined, at);
      return;
    }
    const reply = outcome.reply;
    await this.d.audit.finish(id, reply.ok ? 'ok' : 'error', reply, at);
    const missing = reply.ok ? missingOf(reply.result) : undefined;
    if (!missing || missing.length === 0) return;
    // Only what was asked for here can be declared lost.
    const asked = missing.filter(([a, b]) => mine.some(([lo, hi]) => a >= lo && b <= hi));
    const lost = await this.d.repo.unrepairable(gw, asked, at);
    if (lost > 0) this.d.log.info({ gw, seqs: lost }, 'gaps unrepairable: the gateway no longer has them');
  }
}

/** The first gaps of a village that fit one request: ≤ 100 ranges, ≤ 5000 seqs (a huge gap is clipped). */
function bounded(due: readonly DueGap[]): { gaps: DueGap[]; ranges: SeqRange[] } {
  const gaps: DueGap[] = [];
  const ranges: SeqRange[] = [];
  let seqs = 0;
  for (const g of due) {
    if (gaps.length >= MAX_RESEND_RANGES || seqs >= MAX_RESEND_SEQS) break;
    const hi = Math.min(g.hi, g.lo + (MAX_RESEND_SEQS - seqs) - 1);
    gaps.push(g);
    ranges.push([g.lo, hi]);
    seqs += hi - g.lo + 1;
  }
  return { gaps, ranges };
}
