import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';

/** Built assets carry a content hash in their name (scripts/build-web.mjs), so they never change. */
const HASHED = /-[A-Z0-9]{8}\.(js|css|svg|png|woff2)(\.br|\.gz)?$/;

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>kampung-gateway</title>
<p>Halaman teknisi belum dibangun / the technician page is not built: <code>npm run build</code></p>`;

/**
 * The technician page: static files from dist/web/static, pre-compressed (.br/.gz) where the
 * browser accepts it. index.html is revalidated on every load (cheap 304), hashed assets are
 * cached for a year. Nothing comes from the internet.
 */
export const staticRoutes: FastifyPluginAsync<{ dir?: string }> = async (app, opts) => {
  const dir = opts.dir;
  if (!dir || !existsSync(join(dir, 'index.html'))) {
    app.get('/', { schema: { response: { 200: { type: 'string' } } } }, async (_req, reply) =>
      reply.type('text/html; charset=utf-8').send(NOT_BUILT),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root: dir,
    prefix: '/',
    wildcard: false,
    // An array: with preCompressed the plugin only finds index files given as a list.
    index: ['index.html'],
    preCompressed: true,
    cacheControl: false,
    dotfiles: 'deny',
    setHeaders: (res, path) => {
      res.setHeader('cache-control', HASHED.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
};
