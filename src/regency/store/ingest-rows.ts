import { wibDay } from '../../core/wib.js';
import type { Inbound, InboundEnvelope } from '../classify.js';
import type { RegencyTables } from './schema.js';

/**
 * The row shapes the ingest repository derives from one message: per-day completeness counts,
 * the WIB day a message belongs to, the seqs a health summary folded, and the village columns
 * a health payload sets. Pure functions: no store access.
 */

type Envelope = Extract<Inbound, { t: 'envelope' }>;

export interface DayCounts {
  messages: number;
  duplicates: number;
  reused: number;
  folded: number;
  min: number | null;
  max: number | null;
}

export function dayCounts(days: Map<string, DayCounts>, day: string): DayCounts {
  let c = days.get(day);
  if (!c) {
    c = { messages: 0, duplicates: 0, reused: 0, folded: 0, min: null, max: null };
    days.set(day, c);
  }
  return c;
}

/** The WIB day of the message: its own stamp when the gateway's clock was synced, else receipt. */
export function dayOf(env: InboundEnvelope, atMs: number): string {
  const ts = Date.parse(env.ts);
  return wibDay(env.clock_synced && Number.isFinite(ts) ? ts : atMs);
}

export function foldedSeqs(it: Envelope): number[] {
  if (it.kind !== 'health') return [];
  const summary = (it.env.data as { summary?: { folded_seqs?: number[] } }).summary;
  return summary?.folded_seqs ?? [];
}

/** `dataJson`: the envelope's data as stored (classify() serialised it once already). */
export function healthState(env: InboundEnvelope, dataJson: string): Partial<RegencyTables['villages']> {
  const d = env.data as {
    gateway: { version: string; boot: string | null };
    link: { verdict: string; fault_layer: string | null };
    outbox: { depth: number };
    clock: { synced: boolean };
  };
  const interval = healthInterval((env.data as { health_interval_s?: unknown }).health_interval_s);
  return {
    ...(interval === null ? {} : { health_interval_s: interval }),
    health: dataJson,
    version: d.gateway.version,
    outbox_depth: d.outbox.depth,
    clock_synced: d.clock.synced ? 1 : 0,
    verdict: d.link.verdict,
    fault_layer: d.link.fault_layer,
  };
}

export function emptyVillage(gw: string): RegencyTables['villages'] {
  return {
    gw,
    online: null,
    status: null,
    verdict: null,
    fault_layer: null,
    since: null,
    link: null,
    health: null,
    version: null,
    boot: null,
    clock_synced: null,
    outbox_depth: null,
    last_seen_ms: null,
    state_ms: null,
    min_seq: null,
    max_seq: null,
    health_interval_s: null,
    health_rank: null,
    health_seq: null,
    top_rank: null,
    top_seq: null,
    link_rank: null,
    link_seq: null,
    boot_rank: null,
  };
}

/** A published health interval, when it is a sane one (whole seconds, 1 s to 1 day). */
export function healthInterval(v: unknown): number | null {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 86_400 ? v : null;
}
