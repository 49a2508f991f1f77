import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { type App, buildApp, modulesWith } from '../../src/app.js';
import { validateConfigText } from '../../src/config/loader.js';
import { LogRing } from '../../src/core/log-ring.js';
import { createLogger } from '../../src/core/logger.js';
import { defineModule, type GatewayModule } from '../../src/modules/contract.js';
import { baseConfig, REPO_ROOT } from '../helpers/daemon.js';
import { FakeClock } from '../helpers/fake-clock.js';

export { FakeClock } from '../helpers/fake-clock.js';

export const STATIC_DIR = join(REPO_ROOT, 'dist', 'web', 'static');

export function builtAsset(): string {
  const name = readdirSync(join(STATIC_DIR, 'assets')).find((f) => /^app-.*\.js$/.test(f));
  if (!name) throw new Error('page not built: run npm run build');
  return `/assets/${name}`;
}

export interface Harness {
  app: App;
  clock: FakeClock;
  ring: LogRing;
  origin: string;
  setupCode(): string;
  stop(): Promise<void>;
}

/**
 * The real daemon's composition (buildApp: real SQLite in a temp dir, real fastify) in this
 * process, so tests can inject requests and move the clock. `extraRoutes` stand in for the
 * other modules' technician plugins.
 */
export async function startHarness(
  dir: string,
  options: {
    http?: Record<string, unknown>;
    config?: Record<string, unknown>;
    clock?: FakeClock;
    extraRoutes?: FastifyPluginAsync[];
    /** Extra module descriptors, built just before the web module. */
    modules?: GatewayModule[];
  } = {},
): Promise<Harness> {
  const raw = {
    ...baseConfig(dir),
    ...options.config,
    http: { listen: '127.0.0.1:0', metrics: true, ...options.http },
  };
  const result = validateConfigText(stringify(raw), join(dir, 'config.yaml'));
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  const ring = new LogRing();
  const log = createLogger({
    level: 'info',
    destination: pino.multistream([{ level: 'trace', stream: ring }]),
  });
  const clock = options.clock ?? new FakeClock();
  const app = buildApp({
    config: result.config,
    log,
    version: 'test',
    clock,
    logRing: ring,
    staticDir: STATIC_DIR,
    modules: modulesWith([...(options.modules ?? []), routesModule(options.extraRoutes ?? [])]),
  });
  await app.start();
  return {
    app,
    clock,
    ring,
    origin: 'http://localhost:80',
    setupCode: () => readFileSync(join(result.config.data_dir, 'setup-code'), 'utf8').trim(),
    stop: async () => {
      await app.stop();
    },
  };
}

/** Stand-ins for other modules' technician plugins, declared the way a module declares them. */
function routesModule(routes: FastifyPluginAsync[]): GatewayModule {
  return defineModule({
    name: 'test-routes',
    slice: () => ({}),
    build: () => ({ provides: undefined, technicianRoutes: routes }),
  });
}

/** Pulls `kgw_session=...` out of a set-cookie header. */
export function sessionCookie(setCookie: string | string[] | undefined): string {
  const all = Array.isArray(setCookie) ? setCookie : [setCookie ?? ''];
  const c = all.find((x) => x.startsWith('kgw_session='));
  if (!c) throw new Error('no session cookie');
  return c.split(';')[0]!;
}
