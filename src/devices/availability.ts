import type { DeviceState } from '../status/types.js';
import type { StateChange } from './changes-repo.js';

export interface Availability {
  /** Bucket start, ISO UTC. */
  start: string;
  /** online + degraded time over known (online + degraded + offline) time, in %; null if none known. */
  pct: number | null;
  online_s: number;
  degraded_s: number;
  offline_s: number;
  unknown_s: number;
}

/**
 * Time spent in each state within [fromWall, toWall) from a change log (oldest first, the
 * first entry may predate fromWall). Time after `nowWall` is not counted. Degraded counts as
 * available (the kiosk still serves); unknown time (not yet heard from, gateway restarting)
 * is left out of the denominator rather than blamed on the device.
 */
export function availability(
  changes: readonly StateChange[],
  fromWall: number,
  toWall: number,
  nowWall: number,
): Availability {
  const end = Math.min(toWall, nowWall);
  const ms: Record<DeviceState, number> = { online: 0, degraded: 0, offline: 0, unknown: 0 };
  let state: DeviceState = 'unknown';
  let cursor = fromWall;
  for (const ch of changes) {
    if (ch.at_wall <= fromWall) {
      state = ch.state;
      continue;
    }
    const t = Math.min(ch.at_wall, end);
    if (t > cursor) ms[state] += t - cursor;
    cursor = Math.max(cursor, t);
    state = ch.state;
  }
  if (end > cursor) ms[state] += end - cursor;
  const known = ms.online + ms.degraded + ms.offline;
  const pct = known > 0 ? Math.round(((ms.online + ms.degraded) / known) * 10000) / 100 : null;
  const s = (v: number) => Math.round(v / 1000);
  return {
    start: new Date(fromWall).toISOString(),
    pct,
    online_s: s(ms.online),
    degraded_s: s(ms.degraded),
    offline_s: s(ms.offline),
    unknown_s: s(ms.unknown),
  };
}

export type Period = 'hour' | 'day' | 'month';

/** UTC bucket boundaries: the last `count` buckets of `period` ending with the current one. */
export function buckets(period: Period, count: number, nowWall: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const d = new Date(nowWall);
  for (let i = count - 1; i >= 0; i--) {
    let start: number;
    let end: number;
    if (period === 'hour') {
      start = Math.floor(nowWall / 3600_000) * 3600_000 - i * 3600_000;
      end = start + 3600_000;
    } else if (period === 'day') {
      start = Math.floor(nowWall / 86_400_000) * 86_400_000 - i * 86_400_000;
      end = start + 86_400_000;
    } else {
      start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - i, 1);
      end = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - i + 1, 1);
    }
    out.push([start, end]);
  }
  return out;
}
