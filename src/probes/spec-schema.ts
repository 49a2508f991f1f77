import { type Static, Type } from '@sinclair/typebox';

export const PROBE_TYPES = ['icmp', 'tcp', 'dns', 'http', 'usb'] as const;
export type ProbeTypeName = (typeof PROBE_TYPES)[number];

/**
 * How a probe is written in the config, shared by uplink probes and device checks. Fields
 * that apply to one type only are checked per type by the probe registry's refinement.
 */
export const ProbeSpecSchema = Type.Object(
  {
    type: Type.Union(PROBE_TYPES.map((t) => Type.Literal(t))),
    name: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,31}$' })),
    host: Type.Optional(Type.String({ minLength: 1, maxLength: 253 })),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    server: Type.Optional(Type.String({ minLength: 1, maxLength: 253 })),
    query: Type.Optional(Type.String({ minLength: 1, maxLength: 253 })),
    url: Type.Optional(Type.String({ pattern: '^https?://' })),
    usb_id: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{4}:[0-9a-fA-F]{4}$' })),
    interval_s: Type.Optional(Type.Number({ minimum: 0.5, maximum: 86400 })),
    timeout_ms: Type.Optional(Type.Integer({ minimum: 50, maximum: 60000 })),
  },
  { additionalProperties: false },
);
export type ProbeSpec = Static<typeof ProbeSpecSchema>;

/** The fields each probe type needs. */
export const REQUIRED_FIELDS: Record<ProbeTypeName, Array<keyof ProbeSpec>> = {
  icmp: ['host'],
  tcp: ['host', 'port'],
  dns: ['server', 'query'],
  http: ['url'],
  usb: ['usb_id'],
};

/** Default interval per type (SPEC: icmp/tcp 1 s, dns/http 10 s). */
export const DEFAULT_INTERVAL_S: Record<ProbeTypeName, number> = {
  icmp: 1,
  tcp: 1,
  dns: 10,
  http: 10,
  usb: 30,
};

/**
 * Default deadline per type when a spec has no timeout_ms. Probes do not time themselves:
 * whoever runs one aborts its signal at this deadline (STYLE rule 6).
 */
export const DEFAULT_TIMEOUT_MS: Record<ProbeTypeName, number> = {
  icmp: 500,
  tcp: 800,
  dns: 2000,
  http: 5000,
  usb: 2000,
};

export const timeoutOf = (spec: ProbeSpec): number => spec.timeout_ms ?? DEFAULT_TIMEOUT_MS[spec.type];
