import { randomUUID } from 'node:crypto';
import { pickOutcome, pickService } from '../services.js';
import { demandFactor } from './box-model.js';
import { poisson, type Random } from './rng.js';

export const POST_INTERVAL_MS = 30_000;

/**
 * What one kiosk posts to its gateway every 30 s: its service sessions since the last post,
 * shaped as the gateway stores them (src/devices/usage-repo.ts). The event ids are the
 * kiosk's own random UUIDs, never derived from the seed: a second run against the same
 * regency must not look like a redelivery of the first.
 */
export function kioskBatch(
  r: Random,
  perHour: number,
  now: number,
  wall: (t: number) => string,
  synced: boolean,
): Array<Record<string, unknown>> {
  const n = poisson(r, (perHour * demandFactor(now) * POST_INTERVAL_MS) / 3_600_000);
  const out: Array<Record<string, unknown>> = [];
  for (let i = 0; i < n; i++) {
    out.push({
      id: randomUUID(),
      service: pickService(r),
      at: wall(now - r() * POST_INTERVAL_MS),
      outcome: pickOutcome(r),
      duration_ms: Math.round(20_000 + r() * 220_000),
      received_at: wall(now),
      clock_synced: synced,
    });
  }
  return out;
}

/** `SARONGAN` → `Desa Sarongan`: the birth message's name, as an installer would type it. */
export function displayName(listName: string): string {
  const t = listName
    .toLowerCase()
    .split(/\s+/)
    .map((w) => (w ? w[0]?.toUpperCase() + w.slice(1) : w))
    .join(' ');
  return `Desa ${t}`;
}
