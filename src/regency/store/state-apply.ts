import type { Inbound } from '../classify.js';
import { healthInterval } from '../health-facts.js';
import { healthState } from './ingest-rows.js';
import type { RegencyTables } from './schema.js';
import { type BootRanks, newer, type Position } from './state-order.js';

export type VillageCols = Partial<RegencyTables['villages']>;

/** A retained device state to write (null: the device's retained topic was cleared). */
export interface DeviceOp {
  gw: string;
  deviceId: string;
  row: { state: string; data: string; at_ms: number } | null;
}

/** The device writes of one commit, the last one per device winning. */
export type DeviceOps = Map<string, DeviceOp>;

/** One village's order bookkeeping during a commit (see state-order.ts). */
export interface Order {
  ranks: BootRanks;
  health: Position | null;
  top: Position | null;
  link: Position | null;
  bootRank: number | null;
  lastSeen: number | null;
}

/**
 * A live envelope moves the village's newest position; a health sample is shown only when
 * it is newer than the one shown, and its link verdict only when it is also newer than
 * the retained link shown (which is stamped with the newest position heard before it).
 * Historical replays never get here: they are evidence, not state.
 */
export function applyLive(
  it: Extract<Inbound, { t: 'envelope' }>,
  atMs: number,
  state: VillageCols,
  order: Order,
): void {
  const pos = { rank: order.ranks.rank(it.env.boot, atMs), seq: it.env.seq };
  if (newer(pos, order.top)) order.top = pos;
  if (it.kind !== 'health' || !newer(pos, order.health)) return;
  order.health = pos;
  const h = healthState(it);
  if (!newer(pos, order.link)) {
    delete h.verdict;
    delete h.fault_layer;
  }
  Object.assign(state, h);
}

export function applyState(
  it: Extract<Inbound, { t: 'state' }>,
  atMs: number,
  state: VillageCols,
  order: Order,
  devices: DeviceOps,
): void {
  const p = it.payload;
  if (it.kind === 'device') {
    const deviceId = it.deviceId as string;
    const row = p === null ? null : { state: String(p.state), data: JSON.stringify(p), at_ms: atMs };
    // The key cannot be forged by a device id: the village code holds no NUL.
    devices.set(`${it.gw}\u0000${deviceId}`, { gw: it.gw, deviceId, row });
    return;
  }
  if (p === null) return;
  if (it.kind === 'status' && typeof p.boot === 'string') {
    // A status of a boot older than the one shown (a late birth or Will) changes nothing.
    const rank = order.ranks.rank(p.boot, atMs);
    if (order.bootRank !== null && rank < order.bootRank) return;
    order.bootRank = rank;
    // A new run starts here: a link it publishes next outranks any late sample of the old run.
    if (newer({ rank, seq: 0 }, order.top)) order.top = { rank, seq: 0 };
  }
  if (it.kind === 'link') order.link = order.top;
  state.state_ms = atMs;
  if (it.kind === 'status') {
    state.online = p.online === true ? 1 : 0;
    state.status = JSON.stringify(p);
    if (typeof p.version === 'string') state.version = p.version;
    if (typeof p.boot === 'string') state.boot = p.boot;
    if (typeof p.clock_synced === 'boolean') state.clock_synced = p.clock_synced ? 1 : 0;
    const interval = healthInterval(p.health_interval_s);
    if (interval !== null) state.health_interval_s = interval;
  } else {
    state.link = JSON.stringify(p);
    state.verdict = String(p.verdict);
    state.fault_layer = (p.fault_layer as string | null) ?? null;
    state.since = (p.since as string | null) ?? null;
  }
}
