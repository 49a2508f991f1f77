/**
 * Fleet incidents: the outages of several villages that overlap in time and share a cause,
 * grouped into one, so a cut fiber to a kecamatan is one incident with its villages and not
 * a storm of village alarms. Pure: the caller passes each village's incidents, the outages
 * its gateway measured, and the declared maintenance.
 *
 * What shares a cause, by fault layer:
 * - `regency`: the regency's own server, whoever saw it — one incident for the whole fleet;
 * - `isp`, `dns`, `internet`: the same provider (villages without one: the same kecamatan);
 * - `power`: the same kecamatan (a PLN feeder);
 * - `lan` and anything else: the village's own trouble, never grouped.
 *
 * And when, since the same cause is counted days apart too: an outage joins a group only when
 * it starts while the group still runs (one of its members not yet over, an open one never
 * over) and within the correlation window (30 minutes) of a member's start. A cut takes its
 * villages down within minutes; a village that stays down (open) does not pull in every later
 * outage of its ISP.
 */

/** How long after a member's start another outage of the same cause is taken as the same event. */
export const CORRELATION_WINDOW_MS = 30 * 60_000;

/** One outage a gateway measured and reported (its `outage` message). */
export interface LedgerOutage {
  startMs: number;
  endMs: number;
  layer: string;
}

/** One village's incident (derived from its verdict history). */
export interface VillageIncident {
  code: string;
  name: string | null;
  kecamatan: string | null;
  isp: string | null;
  layer: string;
  startMs: number;
  /** null while open. */
  endMs: number | null;
}

/** A maintenance occurrence and whether it applies to a village. */
export interface PlannedWindow {
  name: string;
  startMs: number;
  endMs: number;
  applies(v: { code: string; isp: string | null; kecamatan: string | null }): boolean;
}

export interface GroupMember {
  code: string;
  name: string | null;
  kecamatan: string | null;
  isp: string | null;
  start: string;
  end: string | null;
  /** The times are the gateway's own outage record (else: its verdict samples). */
  measured: boolean;
}

export interface FleetIncident {
  id: string;
  cause: string;
  scope: 'regency' | 'isp' | 'kecamatan' | 'village';
  /** Shared by every village of the incident, else null. */
  isp: string | null;
  kecamatan: string | null;
  start: string;
  end: string | null;
  duration_s: number;
  state: 'open' | 'closed';
  villages: GroupMember[];
  /** Declared maintenance covering it: planned work, not charged. */
  planned: string[];
  /** Its minutes count against the ISP's contract (a charged layer, not planned). */
  charged_to_isp: boolean;
}

interface Member extends VillageIncident {
  measured: boolean;
}

function causeKey(m: Member): { key: string; scope: FleetIncident['scope'] } {
  if (m.layer === 'regency') return { key: 'regency', scope: 'regency' };
  if (m.layer === 'isp' || m.layer === 'dns' || m.layer === 'internet')
    return m.isp !== null
      ? { key: `${m.layer}|isp|${m.isp}`, scope: 'isp' }
      : { key: `${m.layer}|kec|${m.kecamatan ?? m.code}`, scope: 'kecamatan' };
  if (m.layer === 'power') return { key: `power|${m.kecamatan ?? m.code}`, scope: 'kecamatan' };
  return { key: `${m.layer}|village|${m.code}`, scope: 'village' };
}

/**
 * A village incident timed by the gateway's own outage record when one of the same layer
 * overlaps it: the box measured the start and end to the second, its verdict samples only
 * every health interval.
 */
export function measured(inc: VillageIncident, ledger: readonly LedgerOutage[], nowMs: number): Member {
  const end = inc.endMs ?? nowMs;
  const o = ledger.find((x) => x.layer === inc.layer && x.startMs <= end && x.endMs >= inc.startMs);
  if (!o) return { ...inc, measured: false };
  return {
    ...inc,
    startMs: Math.min(o.startMs, inc.startMs),
    endMs: inc.endMs === null ? null : o.endMs,
    measured: true,
  };
}

export function groupIncidents(
  incidents: readonly Member[],
  windows: readonly PlannedWindow[],
  chargedLayers: readonly string[],
  nowMs: number,
  correlationMs = CORRELATION_WINDOW_MS,
): FleetIncident[] {
  type Group = {
    key: string;
    scope: FleetIncident['scope'];
    members: Member[];
    endMs: number;
    lastStartMs: number;
  };
  const groups: Group[] = [];
  const current = new Map<string, Group>();
  const endOf = (m: Member) => m.endMs ?? Number.POSITIVE_INFINITY;
  for (const m of [...incidents].sort((a, b) => a.startMs - b.startMs || a.code.localeCompare(b.code))) {
    const { key, scope } = causeKey(m);
    const g = current.get(key);
    // Sorted by start: the latest member's start is the nearest one.
    if (g && m.startMs <= g.endMs && m.startMs - g.lastStartMs <= correlationMs) {
      g.members.push(m);
      g.endMs = Math.max(g.endMs, endOf(m));
      g.lastStartMs = m.startMs;
      continue;
    }
    const fresh = { key, scope, members: [m], endMs: endOf(m), lastStartMs: m.startMs };
    groups.push(fresh);
    current.set(key, fresh);
  }
  return groups.map((g) => fleetIncident(g.key, g.scope, g.members, windows, chargedLayers, nowMs));
}

function shared<T>(values: readonly T[]): T | null {
  const first = values[0];
  return first !== undefined && values.every((v) => v === first) ? first : null;
}

function fleetIncident(
  key: string,
  scope: FleetIncident['scope'],
  members: readonly Member[],
  windows: readonly PlannedWindow[],
  chargedLayers: readonly string[],
  nowMs: number,
): FleetIncident {
  const startMs = Math.min(...members.map((m) => m.startMs));
  const open = members.some((m) => m.endMs === null);
  const endMs = open ? null : Math.max(...members.map((m) => m.endMs ?? 0));
  // Planned when a window covers every village of it for the whole time it lasted.
  const planned = windows
    .filter((w) =>
      members.every((m) => w.applies(m) && w.startMs <= m.startMs && (m.endMs ?? nowMs) <= w.endMs),
    )
    .map((w) => w.name);
  const cause = members[0]?.layer ?? 'unknown';
  const byCode = [...members].sort((a, b) => a.code.localeCompare(b.code) || a.startMs - b.startMs);
  return {
    id: `${key}@${new Date(startMs).toISOString()}`,
    cause,
    scope,
    isp: shared(members.map((m) => m.isp)),
    kecamatan: shared(members.map((m) => m.kecamatan)),
    start: new Date(startMs).toISOString(),
    end: endMs === null ? null : new Date(endMs).toISOString(),
    duration_s: Math.round(((endMs ?? nowMs) - startMs) / 1000),
    state: open ? 'open' : 'closed',
    villages: byCode.map((m) => ({
      code: m.code,
      name: m.name,
      kecamatan: m.kecamatan,
      isp: m.isp,
      start: new Date(m.startMs).toISOString(),
      end: m.endMs === null ? null : new Date(m.endMs).toISOString(),
      measured: m.measured,
    })),
    planned: [...new Set(planned)],
    charged_to_isp: chargedLayers.includes(cause) && planned.length === 0,
  };
}
