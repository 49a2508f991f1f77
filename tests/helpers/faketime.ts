/**
 * The suite may itself run under libfaketime (`npm run test:future` sets FAKETIME, e.g. "+365d").
 * A test that drives a child's wall clock with its own libfaketime offsets composes them with
 * that base, so the child and the test process still agree on "now" before the test moves it.
 */
const UNIT_S: Record<string, number> = { '': 1, m: 60, h: 3600, d: 86_400, y: 365 * 86_400 };

/** The runner's own relative faketime offset in seconds (0 when not under faketime). */
export function faketimeBaseS(env: NodeJS.ProcessEnv = process.env): number {
  const m = /^([+-])(\d+(?:\.\d+)?)([mhdy]?)$/.exec((env.FAKETIME ?? '').trim());
  if (!m) return 0;
  const s = Number(m[2]) * (UNIT_S[m[3] ?? ''] ?? 1);
  return m[1] === '-' ? -s : s;
}

/** A libfaketime offset string for `deltaS` seconds from the runner's own "now". */
export function faketimeOffset(deltaS: number, env: NodeJS.ProcessEnv = process.env): string {
  const total = Math.round(faketimeBaseS(env) + deltaS);
  return total < 0 ? `${total}` : `+${total}`;
}
