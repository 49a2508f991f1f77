import { Type } from '@sinclair/typebox';

export const HttpConfigSchema = Type.Object(
  {
    listen: Type.String({ pattern: '^(\\[[0-9a-fA-F:]+\\]|[^:\\s]+):[0-9]{1,5}$', default: '0.0.0.0:8080' }),
    metrics: Type.Boolean({ default: true }),
  },
  { additionalProperties: false, default: {} },
);

/** "0.0.0.0:8080" / "[::]:8080" → host and port. The schema already checked the shape. */
export function parseListen(listen: string): { host: string; port: number } {
  const idx = listen.lastIndexOf(':');
  const host = listen.slice(0, idx).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(listen.slice(idx + 1)) };
}
