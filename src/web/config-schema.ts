import { Type } from '@sinclair/typebox';

export const HttpConfigSchema = Type.Object(
  {
    listen: Type.String({ pattern: '^(\\[[0-9a-fA-F:]+\\]|[^:\\s]+):[0-9]{1,5}$', default: '0.0.0.0:8080' }),
    metrics: Type.Boolean({ default: true }),
    /** A technician session ends after this long without a request (monotonic clock). */
    session_idle_s: Type.Integer({ minimum: 1, maximum: 86_400, default: 1800 }),
    /** ...and at the latest this long after login, however active. */
    session_max_s: Type.Integer({ minimum: 60, maximum: 7 * 86_400, default: 43_200 }),
  },
  { additionalProperties: false, default: {} },
);

/** "0.0.0.0:8080" / "[::]:8080" → host and port. The schema already checked the shape. */
export function parseListen(listen: string): { host: string; port: number } {
  const idx = listen.lastIndexOf(':');
  const host = listen.slice(0, idx).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(listen.slice(idx + 1)) };
}
