import type { Static } from '@sinclair/typebox';
import type { Clock } from '../core/clock.js';
import { GwError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { compileNeverCache, type HeaderMap } from './cache-policy.js';
import type { UpstreamConfigSchema } from './config-schema.js';
import { OAuth2TokenSource } from './oauth2-token.js';
import { normalizeSvcPath } from './svc-path.js';
import type { UpstreamClient } from './upstream-client.js';
import { UpstreamCredentials } from './upstream-credentials.js';

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
  /** The /svc path of an absolute or relative URL on this upstream (Location), else undefined. */
  pathOf(ref: string, from: URL): string | undefined;
  /**
   * The upstream's own credential fields (auth.*_file re-read on change, or an OAuth2 token);
   * rejects with UpstreamError when unusable. Asked only when the upstream is about to be called.
   */
  credentials(): Promise<HeaderMap>;
  /** The upstream answered 401: an OAuth2 token is dropped so the next request gets a new one. */
  rejected(status: number): void;
  /** Reads the credentials file now; false when it is unusable (logged with its path only). */
  checkCredentials(): boolean;
}

export function buildUpstreams(
  configs: readonly UpstreamConfig[],
  deps: { clock: Clock; log: Logger; client: UpstreamClient },
): Map<string, Upstream> {
  const out = new Map<string, Upstream>();
  for (const config of configs) {
    const log = deps.log.child({ upstream: config.name });
    const oauth2 = config.auth?.oauth2;
    const files = new UpstreamCredentials({
      auth: oauth2 ? { basic_file: oauth2.client_file } : config.auth,
      clock: deps.clock,
      log,
      formEncode: oauth2 !== undefined,
    });
    const token = oauth2
      ? new OAuth2TokenSource({
          config: oauth2,
          client: deps.client,
          secret: files,
          clock: deps.clock,
          log,
          timeoutMs: config.timeout_ms,
        })
      : undefined;
    const base = new URL(config.base_url);
    const basePath = base.pathname.replace(/\/$/, '');
    const never = compileNeverCache(config.never_cache ?? []);
    const none = (config.never_cache ?? []).length === 0;
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
      pathOf(ref, from) {
        let url: URL;
        try {
          url = new URL(ref, from);
        } catch {
          return undefined;
        }
        if (url.origin !== base.origin || !url.pathname.startsWith(`${basePath}/`)) return undefined;
        try {
          return normalizeSvcPath(`${url.pathname.slice(basePath.length)}${url.search}`);
        } catch {
          return undefined;
        }
      },
      credentials: async () => (token ? token.headers() : files.headers()),
      rejected: (status) => {
        if (status === 401) token?.rejected();
      },
      checkCredentials: () => (token ? token.check() : files.check()),
    });
  }
  return out;
}
