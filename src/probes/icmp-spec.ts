import { HOST } from './fields.js';
import type { SpecOf } from './types.js';

/**
 * The icmp type's config keys and defaults. They live apart from icmp.ts because the fping
 * sampler reads them too, and icmp.ts imports the sampler.
 */
export const ICMP_FIELDS = { host: HOST };
export type IcmpSpec = SpecOf<typeof ICMP_FIELDS>;

/** SPEC: icmp every second; fping's per-packet timeout, a village LAN/ISP hop answers far sooner. */
export const ICMP_DEFAULTS = { interval_s: 1, timeout_ms: 500 } as const;
