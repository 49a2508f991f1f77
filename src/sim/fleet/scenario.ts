import { GwError } from '../../core/errors.js';
import type { LinkFault } from './link-model.js';
import type { VillageInfo } from './villages.js';

export const FAULT_KINDS = ['fiber', 'power', 'lan', 'degraded', 'device', 'regency'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** One scripted fault: `--fault KIND:AT:DURATION[:SELECTOR]`, times in simulated seconds. */
export interface ScriptedFault {
  kind: FaultKind;
  atMs: number;
  durationMs: number;
  /** Terms that must all match: a village code, a kecamatan, an ISP; empty = every village. */
  terms: string[];
}

const UNIT: Record<string, number> = { '': 1000, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90`, `90s`, `15m`, `2h`, `1d` → milliseconds. */
export function parseSpan(text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)([smhd]?)$/.exec(text.trim());
  if (!m)
    throw new GwError('GW_ERR_USAGE', `${what}: expected a number of seconds or 15m, 2h, 1d; got "${text}"`);
  return Number(m[1]) * (UNIT[m[2] ?? ''] ?? 1000);
}

export function parseFault(spec: string): ScriptedFault {
  const [kind, at, dur, selector] = spec.split(':');
  if (!(FAULT_KINDS as readonly string[]).includes(kind ?? ''))
    throw new GwError('GW_ERR_USAGE', `--fault ${spec}: kind must be one of ${FAULT_KINDS.join(', ')}`);
  if (at === undefined || dur === undefined)
    throw new GwError('GW_ERR_USAGE', `--fault ${spec}: expected KIND:AT:DURATION[:SELECTOR]`);
  const terms = (selector ?? '*')
    .split('+')
    .map((t) => t.trim())
    .filter((t) => t !== '' && t !== '*');
  return {
    kind: kind as FaultKind,
    atMs: parseSpan(at, '--fault AT'),
    durationMs: parseSpan(dur, '--fault DURATION'),
    terms,
  };
}

export function selects(f: ScriptedFault, v: VillageInfo): boolean {
  return f.terms.every((t) => {
    const u = t.toUpperCase();
    return v.code === t || v.kecamatan.toUpperCase() === u || v.isp.toUpperCase() === u;
  });
}

/** The uplink fault a scripted kind stands for (power and device faults are not uplink faults). */
export function linkFaultOf(kind: FaultKind): LinkFault | undefined {
  if (kind === 'fiber') return { layer: 'isp', kind: 'down', loss_pct: 100 };
  if (kind === 'lan') return { layer: 'lan', kind: 'down', loss_pct: 100 };
  if (kind === 'degraded') return { layer: 'isp', kind: 'degraded', loss_pct: 15 };
  // The regency's server (its broker and service) unreachable: every box's top rung fails and
  // MQTT cannot connect, so each box keeps its samples and reports the outage afterwards.
  if (kind === 'regency') return { layer: 'regency', kind: 'down', loss_pct: 100 };
  return undefined;
}
