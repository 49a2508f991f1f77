import type { Operation } from '../modules/operations.js';
import { remoteCommand } from './command-names.js';
import { CommandError } from './commands.js';
import type { OutboxRepo } from './outbox-repo.js';
import { parseResendRanges, type ResendReply, type SeqRange, seqRuns } from './resend-args.js';

export interface ResendDeps {
  repo: OutboxRepo;
  /** Queues kept rows (ids) for republishing; false when the queue is full. */
  queue(ids: readonly number[]): number | false;
  /** Writes acknowledgements still waiting (outbox.ts), so an acknowledged row reads as kept. */
  settle?(): void;
}

/**
 * Looks the seqs up among the outbox rows: kept ones (sent, within mqtt.resend_days) are
 * queued to go again, unsent ones are on their way anyway, the rest are missing. Answers once
 * they are queued: the republishing is paced by drain_per_s behind live messages, and may
 * take longer than the regency waits for a reply.
 */
export function resendSeqs(d: ResendDeps, ranges: readonly SeqRange[]): ResendReply {
  const seen = new Set<number>();
  const ids: number[] = [];
  const missing: number[] = [];
  let unsent = 0;
  d.settle?.();
  for (const [lo, hi] of ranges) {
    const rows = new Map(d.repo.bySeq(lo, hi).map((r) => [r.seq, r]));
    for (let s = lo; s <= hi; s++) {
      if (seen.has(s)) continue;
      seen.add(s);
      const r = rows.get(s);
      if (!r) missing.push(s);
      else if (r.sent_wall === null) unsent++;
      else ids.push(r.id);
    }
  }
  if (d.queue(ids) === false) throw new CommandError('not_available', 'resend queue full, ask again later');
  return { requested: seen.size, resent: ids.length + unsent, missing: seqRuns(missing) };
}

/** `resend { ranges: [[from, to], ...] }` (MQTT only): gap repair for the regency's ledger. */
export function resendOperation(d: ResendDeps): Operation {
  return {
    name: remoteCommand('resend'),
    mqtt: true,
    description: 'republish kept envelopes by seq ranges, marked historical',
    run: ({ args }) => resendSeqs(d, parseResendRanges(args)),
  };
}
