import { countRevoked, countStates, readFleet, type SilenceClock } from './fleet.js';
import type { ReadRepo } from './store/read-repo.js';
import type { VillageState } from './village-state.js';
import type { VillageRegistry } from './villages.js';

/** SPEC `regency status --json`. */
export interface RegencyStatus {
  villages: Record<VillageState, number>;
  /** Villages whose identity `regency revoke` withdrew (counted apart from their state). */
  revoked: number;
  messages: number;
  duplicates: number;
  quarantined: number;
  /** Gaps still open. */
  seq_gaps: number;
  repaired: number;
  /** Gaps the gateway no longer had when asked (`resend` answered them missing). */
  unrepairable: number;
  /** Seqs received again with a new id (power-cut reuse), counted apart from duplicates. */
  reused: number;
  /** Publish-to-commit delay of the newest live message (gateway clock synced), seconds. */
  lag_s: number | null;
}

export async function readRegencyStatus(
  repo: ReadRepo,
  registry: VillageRegistry,
  silence: SilenceClock,
): Promise<RegencyStatus> {
  const fleet = await readFleet(repo, registry, silence);
  const t = await repo.totals();
  return {
    villages: countStates(fleet),
    revoked: countRevoked(fleet),
    messages: t.messages,
    duplicates: t.duplicates,
    quarantined: t.quarantined,
    seq_gaps: t.seq_gaps,
    repaired: t.repaired,
    unrepairable: t.unrepairable,
    reused: t.reused,
    lag_s: t.last_lag_ms === null ? null : Math.round(t.last_lag_ms / 100) / 10,
  };
}

/** The human form: Indonesian first, English in brackets. */
export function formatRegencyStatus(name: string, s: RegencyStatus, where: string): string {
  const v = s.villages;
  return [
    `Kabupaten ${name}`,
    `Desa (villages)   online ${v.online}, degraded ${v.degraded}, down ${v.down}, senyap/silent ${v.silent}, offline ${v.offline}, tidak diketahui/unknown ${v.unknown}; dicabut/revoked ${s.revoked}`,
    `Pesan (messages)  ${s.messages} tersimpan/stored, ${s.duplicates} duplikat/duplicates, ${s.quarantined} karantina/quarantined`,
    `Kelengkapan       ${s.seq_gaps} celah terbuka (open seq gaps), ${s.repaired} diperbaiki (repaired), ${s.unrepairable} tak terpulihkan (unrepairable), ${s.reused} seq dipakai ulang (reused)`,
    `Lag               ${s.lag_s === null ? '—' : `${s.lag_s} s`}`,
    `Basis data (store) ${where}`,
  ].join('\n');
}
