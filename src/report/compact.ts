import type { Envelope } from './envelope.js';
import { encodeEnvelope } from './envelope.js';
import type { OutboxRepo, OutboxRow } from './outbox-repo.js';

export const SUMMARY_WINDOW_MS = 5 * 60_000;

export interface HealthSummary {
  from: string;
  to: string;
  samples: number;
  /** Seqs of the samples folded into this one: consumers account for these gaps. */
  folded_seqs: number[];
  link_verdicts: Record<string, number>;
}

type HealthData = Record<string, unknown> & { summary?: HealthSummary; link?: { verdict?: string } };

/**
 * Folds queued health samples into one per 5-minute window (by their stamp): the newest
 * sample of a window survives carrying a `summary` (count, verdict tally, the folded seqs),
 * the others are deleted. Runs inside the caller's transaction; busy rows are left alone.
 */
export function compactHealth(
  repo: OutboxRepo,
  busy: ReadonlySet<number>,
): { removedRows: number; freedBytes: number } {
  const groups = new Map<number, OutboxRow[]>();
  for (const row of repo.allOf('health')) {
    if (busy.has(row.id)) continue;
    const key = Math.floor(row.created_wall / SUMMARY_WINDOW_MS);
    const g = groups.get(key);
    if (g) g.push(row);
    else groups.set(key, [row]);
  }
  let removedRows = 0;
  let freedBytes = 0;
  for (const rows of groups.values()) {
    if (rows.length < 2) continue;
    const keep = rows[rows.length - 1] as OutboxRow;
    const env = JSON.parse(keep.payload) as Envelope<HealthData>;
    const summary: HealthSummary = env.data.summary ?? {
      from: env.ts,
      to: env.ts,
      samples: 1,
      folded_seqs: [],
      link_verdicts: { [env.data.link?.verdict ?? 'unknown']: 1 },
    };
    for (const r of rows.slice(0, -1)) {
      const e = JSON.parse(r.payload) as Envelope<HealthData>;
      const s = e.data.summary;
      summary.samples += s?.samples ?? 1;
      summary.folded_seqs.push(e.seq, ...(s?.folded_seqs ?? []));
      if (s)
        for (const [k, n] of Object.entries(s.link_verdicts))
          summary.link_verdicts[k] = (summary.link_verdicts[k] ?? 0) + n;
      else {
        const v = e.data.link?.verdict ?? 'unknown';
        summary.link_verdicts[v] = (summary.link_verdicts[v] ?? 0) + 1;
      }
      const from = s?.from ?? e.ts;
      if (from < summary.from) summary.from = from;
      repo.delete(r.id);
      removedRows++;
      freedBytes += r.bytes;
    }
    summary.folded_seqs.sort((a, b) => a - b);
    const payload = encodeEnvelope({ ...env, data: { ...env.data, summary } });
    const bytes = Buffer.byteLength(payload);
    repo.update(keep.id, payload, bytes);
    freedBytes += keep.bytes - bytes;
  }
  return { removedRows, freedBytes };
}
