import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { CacheService } from '../../src/cache/cache-service.js';
import { cachePlugin } from '../../src/cache/module.js';
import { SvcHits } from '../../src/cache/svc-hits.js';
import { validateConfigText } from '../../src/config/loader.js';
import type { Config } from '../../src/config/schema.js';
import { Bus } from '../../src/core/bus.js';
import { type Clock, SystemClock } from '../../src/core/clock.js';
import type { Logger } from '../../src/core/logger.js';
import { Scheduler } from '../../src/core/scheduler.js';
import { DeviceAuth } from '../../src/devices/device-auth.js';
import type { GatewayBus, GatewayEvents } from '../../src/events.js';
import { DEVICE_TOKEN_POLICY, FailureThrottle } from '../../src/store/failure-throttle.js';
import { LiveSnapshot } from '../../src/store/live-snapshot.js';
import { Store } from '../../src/store/store.js';
import { buildServer } from '../../src/web/build-server.js';

export const TOKEN = 'kiosk-token-0123456789abcdef';
export const AUTH = { authorization: `Bearer ${TOKEN}` };

export function testConfig(dir: string, cache: Record<string, unknown>): Config {
  const tokenFile = join(dir, 'adm-1.token');
  writeFileSync(tokenFile, `${TOKEN}\n`);
  const raw = {
    gateway: { id: '3510170012', name: 'Test' },
    data_dir: join(dir, 'data'),
    http: { listen: '127.0.0.1:0' },
    uplink: { probes: [] },
    devices: [{ id: 'adm-1', name: 'Kiosk 1', kind: 'kiosk', token_file: tokenFile }],
    cache,
  };
  const r = validateConfigText(stringify(raw), join(dir, 'config.yaml'));
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.config;
}

export interface StartOptions {
  /** Listen on a free port with the /svc fast path in front of fastify, as the daemon runs. */
  fastPath?: boolean;
  /** Listen on a free port without it (the route answers every hit, as inject() does). */
  listen?: boolean;
  /** Throttle token failures per address as the daemon does (429 once blocked). */
  throttle?: boolean;
}

/** The cache service with a real store, scheduler and fastify app (inject), as app.ts wires it. */
export async function startCache(
  config: Config,
  clock: Clock = new SystemClock(),
  log: Logger = pino({ level: 'silent' }),
  opts: StartOptions = {},
) {
  const scheduler = new Scheduler({ clock, log });
  const store = new Store({ dataDir: config.data_dir, log, clock });
  const bus: GatewayBus = new Bus<GatewayEvents>(() => undefined);
  store.start();
  const throttle = opts.throttle
    ? new FailureThrottle({ db: () => store.db, clock, policy: DEVICE_TOKEN_POLICY })
    : undefined;
  const auth = new DeviceAuth(config.devices, { throttle });
  auth.load();
  const cache = new CacheService({
    config: config.cache,
    dataDir: config.data_dir,
    log,
    clock,
    scheduler,
    store,
    bus,
    auth,
    state: new LiveSnapshot({ dir: join(config.data_dir, 'run'), log }),
  });
  cache.start();
  const hits = new SvcHits(cache);
  const app = buildServer({
    log,
    dbOk: () => store.ping(),
    publicRoutes: [cachePlugin(cache, hits)],
    fastPaths: opts.fastPath ? [hits.fastPath] : [],
  });
  await app.ready();
  if (opts.fastPath || opts.listen) await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  return {
    cache,
    app,
    auth,
    hits,
    /** http://127.0.0.1:PORT when listening. */
    origin: address && typeof address === 'object' ? `http://127.0.0.1:${address.port}` : '',
    store,
    bus,
    setLink(verdict: 'up' | 'down') {
      bus.emit('link.changed', {
        verdict,
        fault_layer: verdict === 'down' ? 'isp' : null,
        since: null,
        layers: {},
        outage: null,
      });
    },
    async stop() {
      await app.close();
      cache.stop();
      scheduler.stop();
      store.stop();
    },
  };
}

/** The one fake allowed: a clock whose wall time can jump (the box has no RTC; NTP jumps it). */
export class JumpingClock implements Clock {
  readonly kernelBootId: string;
  wallOffsetMs = 0;
  private readonly real = new SystemClock();

  constructor() {
    this.kernelBootId = this.real.kernelBootId;
  }
  wallMs(): number {
    return this.real.wallMs() + this.wallOffsetMs;
  }
  monoMs(): number {
    return this.real.monoMs();
  }
  synced(): boolean {
    return false;
  }
}
