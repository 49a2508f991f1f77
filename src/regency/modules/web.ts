import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../web/build-server.js';
import { HttpService } from '../../web/http-service.js';
import type { RegencyConfig } from '../config-schema.js';
import { fleetPage } from '../web/page.js';
import { defineRegencyModule } from './contract.js';

export interface RegencyWebProvides {
  server: FastifyInstance;
  http: HttpService;
}

declare module './contract.js' {
  interface RegencyProvides {
    web: RegencyWebProvides;
  }
}

/**
 * HTTP: health, metrics, the public routes of the modules listed before this one, and the
 * fleet page with their account routes behind the account guard. Listed after every module
 * that declares routes (it mounts them) and before the collector (as before the split).
 */
export const webModule = defineRegencyModule({
  name: 'web',
  needs: ['store', 'accounts', 'metrics'],
  slice: (c): { name: string; http: RegencyConfig['http'] } => ({ name: c.regency.name, http: c.http }),
  build: ({ config, deps, log, need, optional, earlier }) => {
    const store = need('store');
    const metrics = optional('metrics');
    const tls = config.http.tls;
    const server = buildServer({
      log: log('http'),
      dbOk: () => store.ok(),
      ...(metrics ? { metrics } : {}),
      // The CA goes out with the certificate: a box pinning its fingerprint finds it in the chain.
      ...(tls
        ? {
            https: {
              cert: Buffer.concat([
                readFileSync(tls.cert_file),
                ...(tls.ca_file ? [readFileSync(tls.ca_file)] : []),
              ]),
              key: readFileSync(tls.key_file),
            },
          }
        : {}),
      publicRoutes: [
        ...earlier.publicRoutes,
        fleetPage({
          auth: need('accounts'),
          regencyName: config.name,
          accountRoutes: earlier.accountRoutes,
          ...(deps.staticDir ? { staticDir: deps.staticDir } : {}),
        }),
      ],
    });
    const http = new HttpService({ app: server, listen: config.http.listen, log: log('http') });
    return { provides: { server, http }, services: [http] };
  },
});
