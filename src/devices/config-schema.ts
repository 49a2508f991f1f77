import { Type } from '@sinclair/typebox';
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
    heartbeat_timeout_s: Type.Optional(Type.Integer({ minimum: 5, maximum: 86400 })),
    checks: Type.Array(ProbeSpecSchema, { default: [], maxItems: 8 }),
  },
  { additionalProperties: false },
);

export const DevicesConfigSchema = Type.Array(DeviceConfigSchema, { default: [], maxItems: 64 });
