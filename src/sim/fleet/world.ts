import type { FleetContext } from './fleet-context.js';
import { between, exponential, logNormal, pick, type Random } from './rng.js';
import type { Village } from './village.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/**
 * Mean time between faults at --fault-rate 1 and how long they last (median, spread, bounds).
 * Rough figures for rural East Java halls: PLN cuts every few days, a fiber cut on a
 * provider's line in some kecamatan every day or two, devices that hang now and then.
 */
export const RATES = {
  ispCut: { every: 30 * HOUR, median: 50 * MIN, sigma: 0.9, min: 5 * MIN, max: 12 * HOUR },
  areaPower: { every: 20 * HOUR, median: 45 * MIN, sigma: 0.9, min: 5 * MIN, max: 8 * HOUR, share: 0.6 },
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
 * Faults that hit many villages at once: a provider's fiber cut in one kecamatan (every
 * village of that ISP there goes down with fault layer isp), and a PLN feeder outage that
 * darkens most of a kecamatan. Drawn from the fleet's own stream.
 */
export function fleetWorld(ctx: FleetContext, r: Random, villages: readonly Village[], from: number): void {
  if (villages.length === 0) return;
  recurring(ctx, r, RATES.ispCut, from, (at) => {
    const isp = pick(r, [...new Set(villages.map((v) => v.info.isp))].sort());
    const served = villages.filter((v) => v.info.isp === isp);
    const kec = pick(r, [...new Set(served.map((v) => v.info.kecamatan))].sort());
    const ms = duration(r, RATES.ispCut);
    for (const v of served)
      if (v.info.kecamatan === kec) v.addLinkFault({ layer: 'isp', kind: 'down', loss_pct: 100 }, at, ms);
  });
  recurring(ctx, r, RATES.areaPower, from, (at) => {
    const kec = pick(r, [...new Set(villages.map((v) => v.info.kecamatan))].sort());
    const ms = duration(r, RATES.areaPower);
    for (const v of villages)
      if (v.info.kecamatan === kec && r() < RATES.areaPower.share) v.cutPower(at, ms * between(r, 0.8, 1.2));
  });
}
