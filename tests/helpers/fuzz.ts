/**
 * How many cases a fuzz or property test runs: its CI default times FUZZ_SCALE (1 unless set;
 * `npm run fuzz` sets 20 for a nightly-style run).
 */
export function fuzzRuns(ciDefault: number): number {
  const scale = Number(process.env.FUZZ_SCALE ?? 1);
  if (!Number.isFinite(scale) || scale <= 0)
    throw new Error(`FUZZ_SCALE must be a positive number, not ${process.env.FUZZ_SCALE}`);
  return Math.max(1, Math.round(ciDefault * scale));
}
