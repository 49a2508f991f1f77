import type { MqttClient } from 'mqtt';
import type { Operation } from '../../modules/operations.js';
import { CommandError } from '../../report/commands.js';
import { markHistorical } from '../../report/envelope.js';
import type { Topics } from '../../report/topics.js';
import type { SentLog } from './sent-log.js';

export const MAX_RESEND_RANGES = 100;
export const MAX_RESEND_SEQS = 5000;
const ACK_BUDGET_MS = 15_000;

export interface ResendDeps {
  sent: SentLog;
  topics: Topics;
  client(): MqttClient | undefined;
  /** Runs `fn` after `ms` real milliseconds (the fleet's scheduler); returns a cancel. */
  after(ms: number, fn: () => void): { cancel(): void };
  /** Called per republished envelope the broker acknowledged. */
  onResent(n: number): void;
}

/** `[[from, to], ...]` of positive integers, from <= to, bounded in count and span. */
export function parseRanges(args: Record<string, unknown>): Array<[number, number]> {
  const raw = args.ranges;
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_RESEND_RANGES)
    throw new CommandError('bad_args', `args.ranges must be 1-${MAX_RESEND_RANGES} pairs [from, to]`);
  const out: Array<[number, number]> = [];
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

/** Turns a sorted list of seqs into [from, to] runs. */
function runs(seqs: number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const s of seqs) {
    const last = out.at(-1);
    if (last && last[1] === s - 1) last[1] = s;
    else out.push([s, s]);
  }
  return out;
}

/**
 * The gap-repair command: republishes the envelopes with the requested seqs exactly as they
 * were sent (same id, same seq, same data), flagged historical, and answers once the broker
 * has acknowledged them. Seqs never acknowledged or no longer kept are listed as `missing`.
 */
export function resendOperation(d: ResendDeps): Operation {
  return {
    name: 'resend',
    mqtt: true,
    description: 'republish sent envelopes by seq ranges',
    run: ({ args }) => resend(d, args),
  };
}

async function resend(d: ResendDeps, args: Record<string, unknown>): Promise<unknown> {
  const ranges = parseRanges(args);
  const client = d.client();
  if (!client) throw new CommandError('not_available', 'not connected');
  const found: Array<{ seq: number; topic: string; payload: string }> = [];
  const missing: number[] = [];
  for (const [from, to] of ranges)
    for (let s = from; s <= to; s++) {
      const e = d.sent.get(s);
      if (e) found.push({ seq: s, topic: d.topics.forClass(e.cls), payload: markHistorical(e.payload) });
      else missing.push(s);
    }
  const failed: number[] = [];
  let resent = 0;
  await new Promise<void>((resolve) => {
    let pending = found.length;
    const timer = d.after(ACK_BUDGET_MS, () => resolve());
    const settle = () => {
      if (--pending === 0) {
        timer.cancel();
        resolve();
      }
    };
    if (pending === 0) {
      timer.cancel();
      resolve();
    }
    for (const e of found)
      client.publish(e.topic, e.payload, { qos: 1 }, (err) => {
        if (err) failed.push(e.seq);
        else {
          resent++;
          d.onResent(1);
        }
        settle();
      });
  });
  return {
    requested: found.length + missing.length,
    resent,
    missing: runs(missing.sort((a, b) => a - b)),
    failed: runs(failed.sort((a, b) => a - b)),
  };
}
