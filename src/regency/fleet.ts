import type { Clock } from '../core/clock.js';
import type { ReadRepo, VillageRow } from './store/read-repo.js';
import { emptyStateCounts, type VillageState, villageState } from './village-state.js';
import type { VillageRegistry } from './villages.js';

/** One tile of the wall: SPEC `GET /api/v1/fleet`, plus `known` (false: not in the registry). */
export interface FleetVillage {
  code: string;
  name: string | null;
  kecamatan: string | null;
  isp: string | null;
  known: boolean;
  state: VillageState;
  fault_layer: string | null;
  since: string | null;
  outage: { start: string; fault_layer: string | null } | null;
  devices: Record<string, number>;
  outbox_depth: number | null;
  clock_synced: boolean | null;
  version: string | null;
  last_seen: string | null;
  /** When `regency revoke` cut this village off (its messages are quarantined); null: not revoked. */
  revoked: string | null;
}

/** How long since each village was last heard live: the monotonic clock when the collector runs. */
export interface SilenceClock {
  silent(row: VillageRow): boolean;
}

/** A village is silent after this many of its own health intervals without a live message. */
export const SILENT_INTERVALS = 3;

/**
 * How long a village may stay quiet before it counts as silent: 3 × the health interval it
 * published (birth or health), else `fallbackS` (config `silent_after_s`, 3 × the default 60 s).
 */
export function silentAfterMs(row: Pick<VillageRow, 'health_interval_s'>, fallbackS: number): number {
  const interval = row.health_interval_s;
  return (interval !== null && interval > 0 ? SILENT_INTERVALS * interval : fallbackS) * 1000;
}

/** Silence from the stored wall stamps: for `regency status` when no collector runs. */
export function wallSilence(clock: Clock, silentAfterS: number): SilenceClock {
  return {
    silent: (row) =>
      row.last_seen_ms === null || clock.wallMs() - row.last_seen_ms > silentAfterMs(row, silentAfterS),
  };
}

/**
 * In the running collector: the monotonic time each village was last heard. At start it is
 * seeded from the stored wall stamps (the server's clock is synced), then only moves on
 * live messages, so a wall clock step never makes the whole wall silent or alive.
 */
export class MonotonicSilence implements SilenceClock {
  private readonly clock: Clock;
  private readonly fallbackS: number;
  private readonly seen = new Map<string, number>();
  private startMono = 0;
  private startWall = 0;

  constructor(deps: { clock: Clock; silentAfterS: number }) {
    this.clock = deps.clock;
    this.fallbackS = deps.silentAfterS;
  }

  begin(rows: readonly VillageRow[]): void {
    this.startMono = this.clock.monoMs();
    this.startWall = this.clock.wallMs();
    for (const r of rows)
      if (r.last_seen_ms !== null && !this.seen.has(r.gw))
        this.seen.set(r.gw, this.startMono - Math.max(0, this.startWall - r.last_seen_ms));
  }

  heard(gw: string, monoMs: number): void {
    this.seen.set(gw, monoMs);
  }

  /** Monotonic ms since the village was last heard (since this start when never). */
  quietMs(gw: string): number {
    return this.clock.monoMs() - (this.seen.get(gw) ?? this.startMono);
  }

  silent(row: VillageRow): boolean {
    // Never heard since this start and nothing stored: give it one period before "silent".
    return this.quietMs(row.gw) > silentAfterMs(row, this.fallbackS);
  }
}

/** Builds the fleet from the store and the registry: every registered village, then the unknown ones. */
export async function readFleet(
  repo: ReadRepo,
  registry: VillageRegistry,
  silence: SilenceClock,
): Promise<FleetVillage[]> {
  const rows = new Map((await repo.villages()).map((r) => [r.gw, r]));
  const devices = await repo.deviceCounts();
  const revoked = await repo.revoked();
  const out: FleetVillage[] = [];
  const codes = [
    ...registry.all().map((v) => v.code),
    ...[...rows.keys()].filter((c) => !registry.get(c)).sort(),
  ];
  for (const code of codes)
    out.push(
      fleetVillage(code, registry, rows.get(code), devices.get(code), silence, revoked.get(code) ?? null),
    );
  return out;
}

/** One village's tile from its registry entry and stored row (either may be missing). */
export function fleetVillage(
  code: string,
  registry: VillageRegistry,
  row: VillageRow | undefined,
  devices: Record<string, number> | undefined,
  silence: SilenceClock,
  revokedMs: number | null,
): FleetVillage {
  const v = registry.get(code);
  return {
    code,
    name: v?.name ?? null,
    kecamatan: v?.kecamatan ?? null,
    isp: v?.isp ?? null,
    known: v !== undefined,
    state: row ? stateOf(row, silence) : 'unknown',
    fault_layer: row?.fault_layer ?? null,
    since: row?.since ?? null,
    outage: row?.link ? ((JSON.parse(row.link) as { outage?: FleetVillage['outage'] }).outage ?? null) : null,
    devices: devices ?? {},
    outbox_depth: row?.outbox_depth ?? null,
    clock_synced:
      row?.clock_synced === null || row?.clock_synced === undefined ? null : row.clock_synced === 1,
    version: row?.version ?? null,
    last_seen: row?.last_seen_ms ? new Date(row.last_seen_ms).toISOString() : null,
    revoked: revokedMs === null ? null : new Date(revokedMs).toISOString(),
  };
}

export function stateOf(row: VillageRow, silence: SilenceClock): VillageState {
  return villageState({
    online: row.online === null ? null : row.online === 1,
    verdict: row.verdict,
    silent: silence.silent(row),
    heard: row.online !== null || row.verdict !== null || row.last_seen_ms !== null,
  });
}

export function countRevoked(fleet: readonly FleetVillage[]): number {
  return fleet.filter((v) => v.revoked !== null).length;
}

export function countStates(fleet: readonly FleetVillage[]): Record<VillageState, number> {
  const counts = emptyStateCounts();
  for (const v of fleet) counts[v.state]++;
  return counts;
}
