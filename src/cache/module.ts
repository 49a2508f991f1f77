import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../config/schema.js';
import { defineModule } from '../modules/contract.js';
import { remoteCommand } from '../report/command-names.js';
import { CacheService } from './cache-service.js';
import { outboundRoutes } from './outbound-routes.js';
import { SvcHits } from './svc-hits.js';
import { svcRoutes } from './svc-routes.js';

export interface CacheSlice {
  cache: Config['cache'];
  dataDir: string;
}

declare module '../modules/contract.js' {
  interface ModuleProvides {
    cache: CacheService;
  }
}

/**
 * The cache's public routes: /svc (reads and queued writes) and a kiosk's own queued-write
 * lookup. `hits`: shared with the fast path that answers plain hits before fastify.
 */
export function cachePlugin(cache: CacheService, hits = new SvcHits(cache)): FastifyPluginAsync {
  return async (app) => {
    await app.register(svcRoutes, { cache, hits });
    await app.register(outboundRoutes, { cache });
  };
}

/** The service-data cache and offline write queue behind /svc, with the kiosks' tokens. */
export const cacheModule = defineModule({
  name: 'cache',
  needs: ['devices'],
  slice: (c): CacheSlice => ({ cache: c.cache, dataDir: c.data_dir }),
  build: ({ config, deps, log, need }) => {
    const cache = new CacheService({
      ...deps,
      config: config.cache,
      dataDir: config.dataDir,
      auth: need('devices').auth,
      log: log('cache'),
    });
    const hits = new SvcHits(cache);
    return {
      provides: cache,
      services: [cache],
      status: [cache],
      publicRoutes: [cachePlugin(cache, hits)],
      fastPaths: [hits.fastPath],
      operations: [
        {
          name: remoteCommand('refresh-cache'),
          page: 'action',
          mqtt: true,
          description: 'fetch every prefetch path of every upstream now',
          timeoutMs: 120_000,
          run: () => cache.refreshCache(),
        },
        {
          name: 'wipe-cache',
          page: 'action',
          description: 'delete every stored service-data body (queued writes are kept)',
          run: async () => cache.wipe(),
        },
      ],
      reload: () => cache.reloadCredentials(),
    };
  },
});
