import type { Static } from '@sinclair/typebox';
import { GwError } from '../core/errors.js';
import { compileNeverCache, type HeaderMap } from './cache-policy.js';
import type { UpstreamConfigSchema } from './config-schema.js';
import { normalizeSvcPath } from './svc-path.js';
import { loadUpstreamAuth } from './upstream-auth.js';

export type UpstreamConfig = Static<typeof UpstreamConfigSchema>;

export interface Upstream {
  config: UpstreamConfig;
  name: string;
  /** The prefetch paths, normalised as kiosk paths are (so a prefetch fills the key kiosks read). */
  prefetch: readonly string[];
  /** Whether a normalised path (query ignored) matches never_cache. */
  neverCache(pathAndQuery: string): boolean;
  /** The upstream URL for a /svc path (with query); refuses paths that climb out of base_url. */
  url(pathAndQuery: string): URL;
  /** The headers sent to the upstream: the given ones plus its own credentials (auth.*_file). */
  withCredentials(headers: HeaderMap): HeaderMap;
  /** Reads the credential files (at start). Throws GW_ERR_SECRET_UNREADABLE. */
  loadCredentials(): void;
}

export function buildUpstreams(configs: readonly UpstreamConfig[]): Map<string, Upstream> {
  const out = new Map<string, Upstream>();
  for (const config of configs) {
    const base = new URL(config.base_url);
    const basePath = base.pathname.replace(/\/$/, '');
    const never = compileNeverCache(config.never_cache ?? []);
    const none = (config.never_cache ?? []).length === 0;
    let credentials: HeaderMap = {};
    out.set(config.name, {
      config,
      name: config.name,
      prefetch: config.prefetch.flatMap((p) => {
        try {
          return [normalizeSvcPath(p)];
        } catch {
          return []; // a NIK-like prefetch path is never fetched
        }
      }),
      neverCache: (p) => !none && never(p.split('?')[0] ?? ''),
      url(pathAndQuery) {
        const url = new URL(`${base.origin}${basePath}${pathAndQuery}`);
        if (!url.pathname.startsWith(`${basePath}/`) && url.pathname !== basePath)
          throw new GwError('GW_ERR_VALIDATION', 'path leaves the upstream base');
        return url;
      },
      withCredentials: (headers) => ({ ...headers, ...credentials }),
      loadCredentials() {
        credentials = loadUpstreamAuth(config.auth);
      },
    });
  }
  return out;
}

/** Request headers a kiosk may pass upstream; never Authorization or Cookie. */
const FORWARD = ['accept', 'accept-language', 'accept-encoding', 'content-type', 'content-language'];

export function forwardHeaders(request: Record<string, string | string[] | undefined>): HeaderMap {
  const out: HeaderMap = {};
  for (const name of FORWARD) {
    const v = request[name];
    if (v !== undefined) out[name] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}
