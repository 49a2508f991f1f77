import type { FleetContext } from './fleet-context.js';
import { between, exponential, logNormal, type Random } from './rng.js';
import type { Village } from './village.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/**
 * Mean time between faults at --fault-rate 1 and how long they last (median, spread, bounds).
 * Rough figures for rural East Java halls: a provider's fiber to a kecamatan cut every few
 * days, a PLN feeder outage per kecamatan every week or two, a box's own supply failing
 * every few days, devices that hang now and then. Per unit (an ISP in a kecamatan, a
 * kecamatan, a village, a device), so a bigger fleet has proportionally more of them.
 */
export const RATES = {
  ispCut: { every: 5 * DAY, median: 50 * MIN, sigma: 0.9, min: 5 * MIN, max: 12 * HOUR },
  areaPower: { every: 10 * DAY, median: 45 * MIN, sigma: 0.9, min: 5 * MIN, max: 8 * HOUR, share: 0.6 },
  localPower: { every: 4 * DAY, median: 30 * MIN, sigma: 1, min: 2 * MIN, max: 6 * HOUR },
  routerHang: { every: 6 * DAY, median: 10 * MIN, sigma: 0.8, min: MIN, max: 2 * HOUR },
  lossyLine: { every: 2 * DAY, median: 30 * MIN, sigma: 1, min: 5 * MIN, max: 4 * HOUR },
  device: { every: 2 * DAY, median: 20 * MIN, sigma: 1, min: 2 * MIN, max: 8 * HOUR },
} as const;

type Rate = { every: number; median: number; sigma: number; min: number; max: number };

function duration(r: Random, k: Rate): number {
  return logNormal(r, k.median, k.sigma, k.min, k.max);
}

/** A Poisson process on the agenda: `fire(at)` at exponential intervals while the fleet produces. */
function recurring(ctx: FleetContext, r: Random, k: Rate, from: number, fire: (at: number) => void): void {
  if (ctx.options.faultRate <= 0) return;
  const at = from + exponential(r, k.every / ctx.options.faultRate);
  ctx.at(at, () => {
    if (!ctx.producing()) return;
    fire(at);
    recurring(ctx, r, k, at, fire);
  });
}

/** One village's own troubles: its power, its router, its line, its devices. */
export function villageWorld(ctx: FleetContext, v: Village, from: number): void {
  const r = v.r;
  recurring(ctx, r, RATES.localPower, from, (at) => v.cutPower(at, duration(r, RATES.localPower)));
  recurring(ctx, r, RATES.routerHang, from, (at) =>
    v.addLinkFault({ layer: 'lan', kind: 'down', loss_pct: 100 }, at, duration(r, RATES.routerHang)),
  );
  recurring(ctx, r, RATES.lossyLine, from, (at) =>
    v.addLinkFault(
      { layer: 'isp', kind: 'degraded', loss_pct: Math.round(between(r, 4, 25)) },
      at,
      duration(r, RATES.lossyLine),
    ),
  );
  for (const d of v.devices)
    recurring(ctx, r, RATES.device, from, (at) => {
      const ms = duration(r, RATES.device);
      v.setDevice(d.id, false, at);
      ctx.at(at + ms, () => v.setDevice(d.id, true, at + ms));
    });
}

/**
 * Faults that hit many villages at once: a provider's fiber cut to one kecamatan (every
 * village of that ISP there goes down with fault layer isp), and a PLN feeder outage that
 * darkens most of a kecamatan. Drawn from the fleet's own stream.
 */
export function fleetWorld(ctx: FleetContext, r: Random, villages: readonly Village[], from: number): void {
  const groups = new Map<string, Village[]>();
  const kecs = new Map<string, Village[]>();
  for (const v of villages) {
    const key = `${v.info.isp}|${v.info.kecamatan}`;
    groups.set(key, [...(groups.get(key) ?? []), v]);
    kecs.set(v.info.kecamatan, [...(kecs.get(v.info.kecamatan) ?? []), v]);
  }
  for (const key of [...groups.keys()].sort()) {
    const served = groups.get(key) ?? [];
    recurring(ctx, r, RATES.ispCut, from, (at) => {
      const ms = duration(r, RATES.ispCut);
      for (const v of served) v.addLinkFault({ layer: 'isp', kind: 'down', loss_pct: 100 }, at, ms);
    });
  }
  for (const kec of [...kecs.keys()].sort()) {
    const area = kecs.get(kec) ?? [];
    recurring(ctx, r, RATES.areaPower, from, (at) => {
      const ms = duration(r, RATES.areaPower);
      for (const v of area) if (r() < RATES.areaPower.share) v.cutPower(at, ms * between(r, 0.8, 1.2));
    });
  }
}
