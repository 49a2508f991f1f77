import type { RegencyTables } from './store/schema.js';

/**
 * What the store reads of a health sample besides its stored text: the village columns it
 * sets and the seqs its summary folded. Taken from the parsed payload once, by classify(),
 * where the payload is parsed and checked anyway: the commit reads these and nothing more.
 */
export interface HealthFacts {
  cols: Pick<
    Partial<RegencyTables['villages']>,
    'health_interval_s' | 'version' | 'outbox_depth' | 'clock_synced' | 'verdict' | 'fault_layer'
  >;
  folded: number[];
}

/** `data`: a health envelope's data, valid against its schema. */
export function healthFacts(data: unknown): HealthFacts {
  const d = data as {
    gateway: { version: string };
    link: { verdict: string; fault_layer: string | null };
    outbox: { depth: number };
    clock: { synced: boolean };
    health_interval_s?: unknown;
    summary?: { folded_seqs?: number[] };
  };
  const interval = healthInterval(d.health_interval_s);
  return {
    cols: {
      ...(interval === null ? {} : { health_interval_s: interval }),
      version: d.gateway.version,
      outbox_depth: d.outbox.depth,
      clock_synced: d.clock.synced ? 1 : 0,
      verdict: d.link.verdict,
      fault_layer: d.link.fault_layer,
    },
    folded: d.summary?.folded_seqs ?? [],
  };
}

/** A published health interval, when it is a sane one (whole seconds, 1 s to 1 day). */
export function healthInterval(v: unknown): number | null {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 86_400 ? v : null;
}
