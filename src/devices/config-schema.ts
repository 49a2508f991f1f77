import { type Static, Type } from '@sinclair/typebox';
import { ProbeSpecSchema } from '../probes/spec-schema.js';

export const DEVICE_KINDS = [
  'kiosk',
  'printer',
  'card_reader',
  'queue_display',
  'access_point',
  'camera',
  'other',
] as const;

export const DeviceConfigSchema = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,31}$' }),
    name: Type.String({ minLength: 1, maxLength: 80 }),
    kind: Type.Union(DEVICE_KINDS.map((k) => Type.Literal(k))),
    token_file: Type.Optional(Type.String({ minLength: 1 })),
    heartbeat_timeout_s: Type.Optional(Type.Number({ minimum: 1, maximum: 86400 })),
    checks: Type.Array(ProbeSpecSchema, { default: [], maxItems: 8 }),
    // Hysteresis of the active checks: this many failed runs in a row before offline,
    // this many good runs in a row before it counts as reachable again.
    down_after: Type.Integer({ minimum: 1, maximum: 100, default: 3 }),
    up_after: Type.Integer({ minimum: 1, maximum: 100, default: 2 }),
  },
  { additionalProperties: false },
);

export const DevicesConfigSchema = Type.Array(DeviceConfigSchema, { default: [], maxItems: 64 });

export type DeviceConfig = Static<typeof DeviceConfigSchema>;
