import { Type } from '@sinclair/typebox';
import { ProbeSpecSchema } from '../probes/spec-schema.js';

export const LAYERS = ['lan', 'isp', 'dns', 'internet', 'regency'] as const;
export type Layer = (typeof LAYERS)[number];

export const UplinkProbeSchema = Type.Composite(
  [
    Type.Omit(ProbeSpecSchema, ['name']),
    Type.Object({
      name: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,31}$' }),
      layer: Type.Union(LAYERS.map((l) => Type.Literal(l))),
    }),
  ],
  { additionalProperties: false },
);

export const UplinkConfigSchema = Type.Object(
  {
    down_after: Type.Integer({ minimum: 1, maximum: 100, default: 4 }),
    up_after: Type.Integer({ minimum: 1, maximum: 100, default: 4 }),
    probes: Type.Array(UplinkProbeSchema, { default: [], maxItems: 32 }),
  },
  { additionalProperties: false, default: {} },
);
