import { type Static, Type } from '@sinclair/typebox';
import { CronString } from '../config/cron-string.js';
import { ProbeSpecSchema } from '../probes/spec-schema.js';
import { LAYERS } from '../status/types.js';

export { LAYERS, type Layer } from '../status/types.js';

export const UplinkProbeSchema = Type.Composite(
  [
    Type.Omit(ProbeSpecSchema, ['name']),
    Type.Object({
      name: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,31}$' }),
      layer: Type.Union(LAYERS.map((l) => Type.Literal(l))),
      // Per-probe hysteresis, overriding uplink.down_after / up_after.
      down_after: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
      up_after: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    }),
  ],
  { additionalProperties: false },
);
export type UplinkProbeConfig = Static<typeof UplinkProbeSchema>;

/** Round-trip time above which a layer counts as degraded (median over the window). */
const RttSchema = Type.Object(
  {
    lan: Type.Number({ minimum: 1, default: 50 }),
    isp: Type.Number({ minimum: 1, default: 150 }),
    dns: Type.Number({ minimum: 1, default: 500 }),
    internet: Type.Number({ minimum: 1, default: 300 }),
    regency: Type.Number({ minimum: 1, default: 2000 }),
  },
  { additionalProperties: false, default: {} },
);

export const DegradedSchema = Type.Object(
  {
    loss_pct: Type.Number({ minimum: 0.1, maximum: 100, default: 10 }),
    window_s: Type.Integer({ minimum: 10, maximum: 3600, default: 120 }),
    rtt_ms: RttSchema,
  },
  { additionalProperties: false, default: {} },
);

export const ThroughputSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: false }),
    url: Type.Optional(Type.String({ pattern: '^https?://' })),
    cron: CronString({ minLength: 9, default: '30 3 * * 0' }),
    max_bytes: Type.Integer({ minimum: 1024, maximum: 200 * 1024 * 1024, default: 10 * 1024 * 1024 }),
    timeout_s: Type.Integer({ minimum: 1, maximum: 600, default: 60 }),
  },
  { additionalProperties: false, default: {} },
);

export const UplinkConfigSchema = Type.Object(
  {
    down_after: Type.Integer({ minimum: 1, maximum: 100, default: 4 }),
    up_after: Type.Integer({ minimum: 1, maximum: 100, default: 4 }),
    degraded: DegradedSchema,
    /** How often interface facts (operstate, speed, bytes/s, WiFi) are read; 0 turns it off. */
    interface_interval_s: Type.Integer({ minimum: 0, maximum: 3600, default: 30 }),
    throughput: ThroughputSchema,
    probes: Type.Array(UplinkProbeSchema, { default: [], maxItems: 32 }),
  },
  { additionalProperties: false, default: {} },
);
export type UplinkConfig = Static<typeof UplinkConfigSchema>;
