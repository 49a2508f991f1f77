import { Type } from '@sinclair/typebox';

export const UpstreamConfigSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,31}$' }),
    base_url: Type.String({ pattern: '^https?://' }),
    ttl_s: Type.Integer({ minimum: 0, maximum: 31536000, default: 3600 }),
    prefetch: Type.Array(Type.String({ pattern: '^/' }), { default: [], maxItems: 200 }),
    prefetch_cron: Type.Optional(Type.String({ minLength: 9 })),
    offline_writes: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
);

export const CacheConfigSchema = Type.Object(
  {
    max_mb: Type.Number({ minimum: 1, maximum: 65536, default: 256 }),
    upstreams: Type.Array(UpstreamConfigSchema, { default: [], maxItems: 16 }),
  },
  { additionalProperties: false, default: {} },
);
