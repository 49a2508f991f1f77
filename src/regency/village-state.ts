/** SPEC village states. */
export const VILLAGE_STATES = ['online', 'degraded', 'down', 'silent', 'offline', 'unknown'] as const;
export type VillageState = (typeof VILLAGE_STATES)[number];

export interface StateInputs {
  /** From the retained `status`: true after a birth, false after the Will or a clean stop. */
  online: boolean | null;
  /** Link verdict from the retained `link` or the latest live health. */
  verdict: string | null;
  /** No live message for silent_after_s (the caller measures it, monotonic when running). */
  silent: boolean;
  /** Anything at all was ever heard from the village. */
  heard: boolean;
}

/**
 * One village's state. Order of precedence: what the broker said for the village (offline)
 * beats silence, silence beats the last link verdict it reported (a silent village's last
 * verdict is stale), and a village never heard of is unknown.
 */
export function villageState(s: StateInputs): VillageState {
  if (!s.heard) return 'unknown';
  if (s.online === false) return 'offline';
  if (s.silent) return 'silent';
  if (s.verdict === 'down') return 'down';
  if (s.verdict === 'degraded') return 'degraded';
  // Heard lately and nothing says otherwise (a link verdict of "unknown" is the gateway's
  // own start-up state): its messages arrive, so it is online.
  return 'online';
}

export function emptyStateCounts(): Record<VillageState, number> {
  return Object.fromEntries(VILLAGE_STATES.map((s) => [s, 0])) as Record<VillageState, number>;
}
