import type { LayerStatus, LinkStatus } from '../../status/types.js';
import { LAYERS, type Layer } from '../../uplink/config-schema.js';

export interface LinkFault {
  layer: Layer;
  kind: 'down' | 'degraded';
  loss_pct: number;
}

export interface EndedOutage {
  start: string;
  end: string;
  duration_s: number;
  fault_layer: string | null;
  interrupted?: boolean;
}

interface OpenOutage {
  start: number;
  layer: Layer;
  layerSince: number;
  layerMs: Partial<Record<Layer, number>>;
}

type Condition = { verdict: 'up' | 'degraded' | 'down'; layer: Layer | null; loss: number };

const RANK = new Map<Layer, number>(LAYERS.map((l, i) => [l, i]));
const BASE_RTT: Record<Layer, number> = { lan: 1, isp: 5, dns: 14, internet: 28, regency: 34 };

/**
 * A village uplink as the gateway's verdict engine would see it: faults (a cut fiber, a hung
 * router, a lossy line) are conditions that come and go; the published verdict follows them
 * after the probes' hysteresis, and an outage runs from the first failed round to the first
 * good one, its fault layer the one that held longest (as src/uplink/outage.ts does).
 */
export class LinkModel {
  private readonly faults = new Map<number, LinkFault>();
  private nextId = 1;
  private downSince: number | null = null;
  private clearedAt: number | null = null;
  private open: OpenOutage | null = null;
  private readonly rttScale: number;
  status: LinkStatus = { verdict: 'unknown', fault_layer: null, since: null, layers: {}, outage: null };

  constructor(rttScale: number) {
    this.rttScale = rttScale;
  }

  /** True while no fault takes the box off the network (MQTT can connect). */
  netUp(): boolean {
    return this.condition().verdict !== 'down';
  }

  /** The layer taking the box off the network, or null while it is not down. */
  downLayer(): Layer | null {
    const c = this.condition();
    return c.verdict === 'down' ? c.layer : null;
  }

  add(f: LinkFault, at: number): number {
    const id = this.nextId++;
    const wasDown = !this.netUp();
    this.faults.set(id, f);
    if (!wasDown && !this.netUp()) this.downSince = at;
    return id;
  }

  remove(id: number, at: number): void {
    const wasDown = !this.netUp();
    this.faults.delete(id);
    if (wasDown && this.netUp()) {
      this.clearedAt = at;
      this.downSince = null;
    }
  }

  clear(at: number): void {
    for (const id of [...this.faults.keys()]) this.remove(id, at);
  }

  /** A new run of the daemon starts with an unknown verdict; a cut still there counts from boot. */
  reboot(at: number): void {
    this.status = { verdict: 'unknown', fault_layer: null, since: null, layers: {}, outage: null };
    this.open = null;
    if (this.downSince !== null) this.downSince = at;
  }

  /** Power went off: the outage open now, if any, becomes the next run's "interrupted" record. */
  interrupt(at: number, wall: (t: number) => string): EndedOutage | null {
    const o = this.open;
    if (!o) return null;
    this.open = null;
    return {
      start: wall(o.start),
      end: wall(at),
      duration_s: Math.round((at - o.start) / 100) / 10,
      fault_layer: longest(accumulate(o, at)) ?? o.layer,
      interrupted: true,
    };
  }

  /**
   * The verdict after the probes' hysteresis, `at` being at least down_after/up_after rounds
   * after the last change. Returns the new status when it changed, and the outage it ended.
   */
  evaluate(
    at: number,
    wall: (t: number) => string,
  ): { changed: LinkStatus | null; ended: EndedOutage | null } {
    const c = this.condition();
    if (c.verdict === this.status.verdict && c.layer === this.status.fault_layer)
      return { changed: null, ended: null };
    let ended: EndedOutage | null = null;
    if (c.verdict === 'down' && c.layer) {
      if (!this.open) {
        const start = this.downSince ?? at;
        this.open = { start, layer: c.layer, layerSince: start, layerMs: {} };
      } else if (this.open.layer !== c.layer) {
        this.open = { ...this.open, layerMs: accumulate(this.open, at), layer: c.layer, layerSince: at };
      }
    } else if (this.open) {
      const end = Math.max(this.open.start, Math.min(this.clearedAt ?? at, at));
      ended = {
        start: wall(this.open.start),
        end: wall(end),
        duration_s: Math.round((end - this.open.start) / 100) / 10,
        fault_layer: longest(accumulate(this.open, end)) ?? this.open.layer,
      };
      this.open = null;
    }
    this.status = {
      verdict: c.verdict,
      fault_layer: c.layer,
      since: wall(at),
      layers: this.layers(c),
      outage: this.open ? { start: wall(this.open.start), fault_layer: this.open.layer } : null,
    };
    return { changed: this.status, ended };
  }

  private condition(): Condition {
    let down: LinkFault | undefined;
    let degraded: LinkFault | undefined;
    for (const f of this.faults.values()) {
      const slot = f.kind === 'down' ? down : degraded;
      if (!slot || (RANK.get(f.layer) ?? 0) < (RANK.get(slot.layer) ?? 0)) {
        if (f.kind === 'down') down = f;
        else degraded = f;
      }
    }
    if (down) return { verdict: 'down', layer: down.layer, loss: 100 };
    if (degraded) return { verdict: 'degraded', layer: degraded.layer, loss: degraded.loss_pct };
    return { verdict: 'up', layer: null, loss: 0 };
  }

  private layers(c: Condition): Record<string, LayerStatus> {
    const at = c.layer ? (RANK.get(c.layer) ?? 0) : LAYERS.length;
    const out: Record<string, LayerStatus> = {};
    for (const [i, l] of LAYERS.entries()) {
      const rtt = Math.round(BASE_RTT[l] * this.rttScale * 10) / 10;
      if (c.verdict === 'down' && i >= at) out[l] = { state: 'down', loss_pct: 100, rtt_ms: null };
      else if (c.verdict === 'degraded' && i >= at)
        out[l] = { state: 'degraded', loss_pct: c.loss, rtt_ms: Math.round(rtt * 3 * 10) / 10 };
      else out[l] = { state: 'up', loss_pct: 0, rtt_ms: rtt };
    }
    return out;
  }
}

function accumulate(o: OpenOutage, now: number): Partial<Record<Layer, number>> {
  return { ...o.layerMs, [o.layer]: (o.layerMs[o.layer] ?? 0) + Math.max(0, now - o.layerSince) };
}

function longest(ms: Partial<Record<Layer, number>>): Layer | null {
  let best: Layer | null = null;
  for (const [l, v] of Object.entries(ms) as Array<[Layer, number]>)
    if (best === null || v > (ms[best] ?? 0)) best = l;
  return best;
}
