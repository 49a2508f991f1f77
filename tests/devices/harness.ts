import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../src/config/schema.js';
import type { Bus } from '../../src/core/bus.js';
import type { Clock } from '../../src/core/clock.js';
import type { Scheduler } from '../../src/core/scheduler.js';
import { DevicesService } from '../../src/devices/devices-service.js';
import { devicePushPlugin } from '../../src/devices/module.js';
import { deviceTechRoutes } from '../../src/devices/tech-routes.js';
import type { Durability } from '../../src/devices/usage-ingest.js';
import type { GatewayEvents } from '../../src/events.js';
import { createProbe } from '../../src/probes/registry.js';
import type { Store } from '../../src/store/store.js';
import { buildServer } from '../../src/web/build-server.js';
import { coreDeps } from '../helpers/core-deps.js';
import { FakeClock as SharedFakeClock } from '../helpers/fake-clock.js';
import { testConfig } from '../helpers/test-config.js';
import { tempDir } from '../helpers/tmp.js';

/** The shared fake clock, started at a given wall time. */
export class FakeClock extends SharedFakeClock {
  constructor(wallStart: number) {
    super({ wall: wallStart, kernelBootId: '00000000-0000-4000-8000-00000000b007' });
  }
}

export const TOKENS: Record<string, string> = {};

export interface DeviceSpec {
  id: string;
  kind?: string;
  heartbeat_timeout_s?: number;
  checks?: unknown[];
  down_after?: number;
  up_after?: number;
  token?: string | null;
}

/** Writes token files and returns a validated config with these devices. */
export function makeConfig(dir: string, devices: DeviceSpec[], extra: Record<string, unknown> = {}): Config {
  mkdirSync(join(dir, 'tokens'), { recursive: true });
  const list = devices.map((d) => {
    const { token, ...rest } = d;
    const out: Record<string, unknown> = { name: `Perangkat ${d.id}`, kind: d.kind ?? 'kiosk', ...rest };
    if (token !== null) {
      const value = token ?? `tok-${d.id}-0123456789abcdef`;
      TOKENS[d.id] = value;
      const file = join(dir, 'tokens', `${d.id}.token`);
      writeFileSync(file, `${value}\n`, { mode: 0o600 });
      out.token_file = file;
    }
    return out;
  });
  return testConfig(dir, { devices: list, ...extra });
}

export interface Harness {
  dir: string;
  config: Config;
  store: Store;
  scheduler: Scheduler;
  bus: Bus<GatewayEvents>;
  devices: DevicesService;
  app: FastifyInstance;
  clock: Clock;
  close(): Promise<void>;
}

/** The devices module on a real SQLite file, with the push routes and the technician routes. */
export async function harness(
  devices: DeviceSpec[],
  opts: {
    clock?: Clock;
    commitWindowMs?: number;
    durability?: Durability;
    prepare?(dir: string): void;
    release?(dir: string): void;
  } = {},
): Promise<Harness> {
  const tmp = tempDir('kgw-dev-');
  opts.prepare?.(tmp.path);
  const config = makeConfig(tmp.path, devices);
  const core = coreDeps(config.data_dir, { clock: opts.clock ?? new FakeClock(Date.now()) });
  const { log, clock, scheduler, store, bus, state } = core;
  const svc = new DevicesService({
    config,
    clock,
    log,
    scheduler,
    store,
    bus,
    state,
    runId: 'run-test-0001',
    createProbe,
    commitWindowMs: opts.commitWindowMs,
    durability: opts.durability,
  });
  svc.start();
  const app = buildServer({
    log,
    dbOk: () => store.ping(),
    publicRoutes: [devicePushPlugin(svc.pushOptions)],
  });
  app.register(deviceTechRoutes, svc.techOptions);
  await app.ready();
  return {
    dir: tmp.path,
    config,
    store,
    scheduler,
    bus,
    devices: svc,
    app,
    clock,
    close: async () => {
      await app.close();
      await svc.stop();
      core.stop();
      opts.release?.(tmp.path);
      tmp.cleanup();
    },
  };
}

export const auth = (id: string) => ({ authorization: `Bearer ${TOKENS[id]}` });

let seq = 0;
/** A v4-shaped UUID that is unique within the test run. */
export function uuid(): string {
  seq++;
  const hex = seq.toString(16).padStart(12, '0');
  return `${crypto.randomUUID().slice(0, 24)}${hex}`;
}

export function events(n: number, service = 'ktp-el') {
  return Array.from({ length: n }, () => ({ id: uuid(), type: 'service_use' as const, service }));
}
