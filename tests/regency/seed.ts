import type { Envelope } from '../../src/report/envelope.js';
import type { VillagePublisher } from './helpers.js';

type Health = { link: Record<string, unknown>; clock: { synced: boolean }; outbox: { depth: number } };

/** A real health envelope of `gw` with its link verdict, clock and outbox set as given. */
export function healthOf(
  pub: VillagePublisher,
  gw: string,
  o: { verdict: string; fault_layer?: string | null; synced?: boolean; depth?: number; ts?: number },
): Envelope {
  const env = pub.envelope(gw, 'health');
  const d = env.data as Health;
  d.link = { ...d.link, verdict: o.verdict, fault_layer: o.fault_layer ?? null };
  d.clock.synced = o.synced ?? true;
  d.outbox.depth = o.depth ?? 0;
  if (o.ts !== undefined) env.ts = new Date(o.ts).toISOString();
  return env;
}

/** The retained link state of a village (what the wall's fault layer, since and outage come from). */
export function linkState(verdict: string, faultLayer: string | null, sinceMs: number) {
  const since = new Date(sinceMs).toISOString();
  return JSON.stringify({
    verdict,
    fault_layer: faultLayer,
    since,
    layers: { lan: { state: 'up', loss_pct: 0, rtt_ms: 1 } },
    outage: verdict === 'down' ? { start: since, fault_layer: faultLayer } : null,
  });
}

/** Publishes one village's retained status + link and a live health message. */
export async function seedVillage(
  pub: VillagePublisher,
  gw: string,
  o: { verdict: string; fault_layer?: string | null; synced?: boolean; depth?: number; sinceMs?: number },
): Promise<void> {
  await pub.raw(`kampung/v1/${gw}/status`, JSON.stringify({ online: true, version: '0.1.0' }), true);
  await pub.raw(
    `kampung/v1/${gw}/link`,
    linkState(o.verdict, o.fault_layer ?? null, o.sinceMs ?? Date.now() - 3_600_000),
    true,
  );
  await pub.publish(healthOf(pub, gw, o), 'health');
}
