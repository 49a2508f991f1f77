import type { OutboxRepo, RowMeta } from './outbox-repo.js';

/**
 * Writes acknowledged rows inside the caller's transaction: marked sent at `wall` when kept
 * for `resend`, else deleted. Acks of a drain are mostly consecutive ids, so one ranged
 * statement per run of them; every id in a run is acknowledged and busy (never shed), so the
 * whole run exists. Returns false when some row was already gone (the caller recounts).
 */
export function writeAckedRows(
  repo: OutboxRepo,
  sortedRows: readonly RowMeta[],
  keep: boolean,
  wall: number,
): boolean {
  let complete = true;
  let i = 0;
  while (i < sortedRows.length) {
    let j = i;
    while (
      j + 1 < sortedRows.length &&
      (sortedRows[j + 1] as RowMeta).id === (sortedRows[j] as RowMeta).id + 1
    )
      j++;
    const lo = (sortedRows[i] as RowMeta).id;
    const hi = (sortedRows[j] as RowMeta).id;
    const gone = keep
      ? repo.markSent(lo, hi, wall)
      : lo !== hi
        ? repo.deleteRange(lo, hi)
        : repo.delete(lo)
          ? 1
          : 0;
    if (gone !== j - i + 1) complete = false;
    i = j + 1;
  }
  return complete;
}

/** How many health samples a stored health row stands for (a compacted summary: several). */
export function samplesIn(payload: string): number {
  if (!payload.includes('"summary"')) return 1;
  try {
    const n = (JSON.parse(payload) as { data?: { summary?: { samples?: unknown } } }).data?.summary?.samples;
    return typeof n === 'number' && n > 0 ? n : 1;
  } catch {
    return 1;
  }
}
