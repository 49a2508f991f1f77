import { GwError } from '../core/errors.js';
import { dns } from './dns.js';
import { http } from './http.js';
import { icmp } from './icmp.js';
import type { ProbeSpec } from './spec-schema.js';
import { tcp } from './tcp.js';
import { tls } from './tls.js';
import type { AnyProbeType, Probe, ProbeDeps, ProbeSampler } from './types.js';
import { usb } from './usb.js';

/**
 * One line per probe type; a type's name equals its file name (STYLE rule 12). The order is
 * the order of the config schema's `type` choices and of its keys.
 */
export const PROBE_REGISTRY = {
  icmp,
  tcp,
  dns,
  http,
  usb,
  tls,
};

export type ProbeTypeName = keyof typeof PROBE_REGISTRY;

/** The registry with field types erased, to look a type up by its name. */
export const PROBE_TYPES_BY_NAME: Readonly<Record<string, AnyProbeType | undefined>> = PROBE_REGISTRY;

const lookup = (type: string) => PROBE_TYPES_BY_NAME[type];

/** Builds the probe for a spec; a type without an implementation here is a broken probe. */
export function createProbe(spec: ProbeSpec, deps: ProbeDeps): Probe {
  const type = lookup(spec.type);
  if (!type)
    throw new GwError('GW_ERR_PROBE_BROKEN', `no probe type "${spec.type}"`, {
      details: { reason: 'unknown_type' },
    });
  return type.create(spec, deps);
}

/** One sampler for specs of one type that share interval and timeout, if the type has samplers. */
export function createSampler(specs: readonly ProbeSpec[], deps: ProbeDeps): ProbeSampler | undefined {
  const type = specs[0] ? lookup(specs[0].type) : undefined;
  return type?.sampler?.(specs, deps);
}
