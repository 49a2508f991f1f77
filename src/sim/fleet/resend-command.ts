import type { MqttClient } from 'mqtt';
import type { Operation } from '../../modules/operations.js';
import { remoteCommand } from '../../report/command-names.js';
import { CommandError } from '../../report/commands.js';
import { markHistorical } from '../../report/envelope.js';
import { parseResendRanges, type ResendReply, seqRuns } from '../../report/resend-args.js';
import type { Topics } from '../../report/topics.js';
import type { SentLog } from './sent-log.js';

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

/**
 * The gap-repair command: republishes the envelopes with the requested seqs exactly as they
 * were sent (same id, same seq, same data), flagged historical, and answers once the broker
 * has acknowledged them. Seqs never acknowledged or no longer kept are listed as `missing`.
 */
export function resendOperation(d: ResendDeps): Operation {
  return {
    name: remoteCommand('resend'),
    mqtt: true,
    description: 'republish sent envelopes by seq ranges',
    run: ({ args }) => resend(d, args),
  };
}

async function resend(
  d: ResendDeps,
  args: Record<string, unknown>,
): Promise<ResendReply & { failed: ResendReply['missing'] }> {
  const ranges = parseResendRanges(args);
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
    missing: seqRuns(missing),
    failed: seqRuns(failed),
  };
}
