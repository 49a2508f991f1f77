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

/**
 * How long a soak lasts: its `npm test` length times FUZZ_SCALE, kept between 20 s and 10 min
 * (`test:future` and `test:runtimes` run a fifth of it, `npm run fuzz` up to 10 minutes).
 */
export function soakMs(ciDefaultMs: number): number {
  fuzzRuns(1); // validates FUZZ_SCALE
  const scale = Number(process.env.FUZZ_SCALE ?? 1);
  return Math.min(10 * 60_000, Math.max(20_000, Math.round(ciDefaultMs * scale)));
}
