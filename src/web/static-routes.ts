import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';

/** Built assets carry a content hash in their name (scripts/build-web.mjs), so they never change. */
const HASHED = /-[A-Z0-9]{8}\.[a-z0-9]+$/;
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>kampung-gateway</title>
<p>Halaman teknisi belum dibangun / the technician page is not built: <code>npm run build</code></p>`;

interface Asset {
  file: string;
  type: string;
  etag: string;
  cache: string;
  br?: string;
  gz?: string;
}

/** The files of the built page, indexed once at start: a handful, so a map beats a file server. */
export function indexAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (!entry.name.endsWith('.br') && !entry.name.endsWith('.gz') && TYPES[extname(entry.name)]) {
        const st = statSync(full);
        const url = `/${relative(dir, full).split(sep).join('/')}`;
        assets.set(url, {
          file: full,
          type: TYPES[extname(entry.name)]!,
          etag: `"${st.size.toString(36)}-${Math.floor(st.mtimeMs).toString(36)}"`,
          cache: HASHED.test(entry.name) ? 'public, max-age=31536000, immutable' : 'no-cache',
          br: existsSync(`${full}.br`) ? `${full}.br` : undefined,
          gz: existsSync(`${full}.gz`) ? `${full}.gz` : undefined,
        });
      }
    }
  };
  walk(dir);
  return assets;
}

/**
 * The technician page from dist/web/static: pre-compressed (.br/.gz) copies to browsers that
 * accept them, ETag revalidation, index.html revalidated on every load (cheap 304) and hashed
 * assets cached for a year. A small own handler instead of @fastify/static: the page is a
 * few files and the daemon's memory budget is tight. Nothing comes from the internet.
 */
export const staticRoutes: FastifyPluginAsync<{ dir?: string }> = async (app, opts) => {
  const dir = opts.dir;
  const assets = dir && existsSync(join(dir, 'index.html')) ? indexAssets(dir) : undefined;
  const schema = { response: { 200: { type: 'string' } } };
  if (!assets) {
    app.get('/', { schema }, async (_req, reply) => reply.type('text/html; charset=utf-8').send(NOT_BUILT));
    return;
  }
  const send = (request: FastifyRequest, reply: FastifyReply, asset: Asset | undefined) => {
    if (!asset) return reply.callNotFound();
    reply.header('cache-control', asset.cache).header('etag', asset.etag).header('vary', 'accept-encoding');
    if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
    const accept = String(request.headers['accept-encoding'] ?? '');
    let file = asset.file;
    if (asset.br && /\bbr\b/.test(accept)) {
      file = asset.br;
      reply.header('content-encoding', 'br');
    } else if (asset.gz && /\bgzip\b/.test(accept)) {
      file = asset.gz;
      reply.header('content-encoding', 'gzip');
    }
    reply.header('content-length', statSync(file).size);
    return reply.type(asset.type).send(createReadStream(file));
  };
  app.get('/', { schema }, (request, reply) => send(request, reply, assets.get('/index.html')));
  app.get('/assets/:file', { schema }, (request, reply) =>
    send(request, reply, assets.get(`/assets/${(request.params as { file: string }).file}`)),
  );
};
