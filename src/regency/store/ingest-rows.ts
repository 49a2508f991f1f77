import { wibDay } from '../../core/wib.js';
import type { Inbound, InboundEnvelope } from '../classify.js';
import { healthFacts } from '../health-facts.js';
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
  return (it.health ?? healthFacts(it.env.data)).folded;
}

/** The village columns of a health sample: its facts (classify.ts), and its data as stored. */
export function healthState(it: Envelope): Partial<RegencyTables['villages']> {
  return { ...(it.health ?? healthFacts(it.env.data)).cols, health: it.data };
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
