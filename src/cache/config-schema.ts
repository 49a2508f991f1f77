import { type Static, Type } from '@sinclair/typebox';
import { CronString } from '../config/cron-string.js';

/** A /svc path as svc-path.ts accepts it: no backslash, `#`, `%2F`, `%5C` or `%25` before the query. */
const PATH_PATTERN = '^/(?:[^\\\\#%?]|%(?!2[Ff]|5[Cc]|25)[0-9A-Fa-f]{2})*(?:\\?[^#]*)?$';

/** `cache.upstreams[].auth`: exactly one way the gateway proves itself to the upstream. */
export const UpstreamAuthSchema = Type.Object(
  {
    // The token, one line: sent as `Authorization: Bearer <token>`.
    bearer_file: Type.Optional(Type.String({ minLength: 1 })),
    // `user:password`, one line: sent as `Authorization: Basic ...`.
    basic_file: Type.Optional(Type.String({ minLength: 1 })),
    // `Name: value` lines (e.g. an API key header), sent as they are.
    headers_file: Type.Optional(Type.String({ minLength: 1 })),
    // OAuth 2.0 client credentials (RFC 6749 §4.4): a token from token_url, renewed before it
    // expires, sent as `Authorization: Bearer <token>`. client_file holds `client_id:client_secret`.
    oauth2: Type.Optional(
      Type.Object(
        {
          token_url: Type.String({ pattern: '^https?://', maxLength: 2048 }),
          client_file: Type.String({ minLength: 1 }),
          // Space-separated scope tokens (RFC 6749 §3.3).
          scope: Type.Optional(
            Type.String({
              pattern: '^[\\x21\\x23-\\x5b\\x5d-\\x7e]+( [\\x21\\x23-\\x5b\\x5d-\\x7e]+)*$',
              maxLength: 1024,
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, minProperties: 1, maxProperties: 1 },
);

export const UpstreamConfigSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,31}$' }),
    base_url: Type.String({ pattern: '^https?://' }),
    ttl_s: Type.Integer({ minimum: 0, maximum: 31536000, default: 3600 }),
    // Fetched under their normalised form (svc-path.ts); what a kiosk could not ask for is refused.
    prefetch: Type.Array(Type.String({ pattern: PATH_PATTERN, maxLength: 2048 }), {
      default: [],
      maxItems: 200,
    }),
    prefetch_cron: Type.Optional(CronString({ minLength: 9 })),
    offline_writes: Type.Boolean({ default: false }),
    // A dead upstream must never hold a kiosk longer than this (connect + response headers).
    timeout_ms: Type.Integer({ minimum: 100, maximum: 60000, default: 3000 }),
    // Paths never stored: "/warga/*" (glob, * within a segment, ** across) or a plain prefix.
    never_cache: Type.Array(Type.String({ pattern: '^/', maxLength: 200 }), { default: [], maxItems: 50 }),
    // The upstream's own credentials, from a file (never inline, never in base_url).
    auth: Type.Optional(UpstreamAuthSchema),
    // rfc: stale answers only where RFC 9111 / 5861 allow; always: also where the upstream's
    // headers forbid it (public reference data with over-strict headers), marked in the answer.
    serve_stale: Type.Union([Type.Literal('rfc'), Type.Literal('always')], { default: 'rfc' }),
  },
  { additionalProperties: false },
);

export const CacheConfigSchema = Type.Object(
  {
    max_mb: Type.Number({ minimum: 1, maximum: 65536, default: 256 }),
    // Bodies kept in RAM so hits never touch the SD card (bounded; part of the RSS budget).
    memory_mb: Type.Number({ minimum: 0, maximum: 512, default: 8 }),
    upstreams: Type.Array(UpstreamConfigSchema, { default: [], maxItems: 16 }),
    outbound: Type.Object(
      {
        max_mb: Type.Number({ minimum: 1, maximum: 4096, default: 32 }),
        max_items: Type.Integer({ minimum: 1, maximum: 1000000, default: 10000 }),
        max_tries: Type.Integer({ minimum: 1, maximum: 1000, default: 50 }),
        max_backoff_s: Type.Integer({ minimum: 1, maximum: 86400, default: 300 }),
        keep_days: Type.Integer({ minimum: 1, maximum: 365, default: 7 }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);

export type CacheConfig = Static<typeof CacheConfigSchema>;
