import { CommandError } from './commands.js';

/** The `resend` command's bounds, shared by the gateway, the fleet simulator and the regency. */
export const MAX_RESEND_RANGES = 100;
export const MAX_RESEND_SEQS = 5000;

export type SeqRange = [number, number];

/**
 * The reply to `resend { ranges }`: how many seqs were asked for, how many envelopes are on
 * their way again (same id, seq and data, `historical: true`), and the seqs this gateway no
 * longer has or never sent (beyond `mqtt.resend_days`, shed for space, lost in a power cut):
 * the regency records those as unrepairable.
 */
export interface ResendReply {
  requested: number;
  resent: number;
  missing: SeqRange[];
}

/** `[[from, to], ...]` of positive integers, from <= to, bounded in count and span. */
export function parseResendRanges(args: Record<string, unknown>): SeqRange[] {
  const raw = args.ranges;
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_RESEND_RANGES)
    throw new CommandError('bad_args', `args.ranges must be 1-${MAX_RESEND_RANGES} pairs [from, to]`);
  const out: SeqRange[] = [];
  let total = 0;
  for (const r of raw) {
    if (!Array.isArray(r) || r.length !== 2) throw new CommandError('bad_args', 'each range is [from, to]');
    const [from, to] = r as unknown[];
    if (
      !Number.isSafeInteger(from) ||
      !Number.isSafeInteger(to) ||
      (from as number) < 1 ||
      (to as number) < (from as number)
    )
      throw new CommandError('bad_args', 'a range needs integers 1 <= from <= to');
    total += (to as number) - (from as number) + 1;
    if (total > MAX_RESEND_SEQS)
      throw new CommandError('bad_args', `at most ${MAX_RESEND_SEQS} seqs per request`);
    out.push([from as number, to as number]);
  }
  return out;
}

/** Turns a list of seqs into sorted [from, to] runs. */
export function seqRuns(seqs: readonly number[]): SeqRange[] {
  const out: SeqRange[] = [];
  for (const s of [...new Set(seqs)].sort((a, b) => a - b)) {
    const last = out.at(-1);
    if (last && last[1] === s - 1) last[1] = s;
    else out.push([s, s]);
  }
  return out;
}

/** A reply's `missing` if it is well formed (a village's answer is input like any other). */
export function missingOf(result: unknown): SeqRange[] | undefined {
  const m = (result as { missing?: unknown } | null)?.missing;
  if (!Array.isArray(m) || m.length > MAX_RESEND_SEQS) return undefined;
  const out: SeqRange[] = [];
  for (const r of m) {
    if (!Array.isArray(r) || r.length !== 2) return undefined;
    const [a, b] = r as unknown[];
    if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b) || (a as number) > (b as number))
      return undefined;
    out.push([a as number, b as number]);
  }
  return out;
}
