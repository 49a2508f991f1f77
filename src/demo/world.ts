import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { SystemClock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { loadRegencyConfig } from '../regency/config.js';
import type { RegencyApp } from '../regency/regency-app.js';
import type { Fleet } from '../sim/fleet/fleet.js';
import { KioskSim } from '../sim/kiosk.js';
import { DemoBroker } from './broker.js';
import { type DemoKiosk, demoKiosks, writeDemoConfig } from './demo-config.js';
import { startDemoFleet } from './demo-fleet.js';
import { DemoPort } from './demo-port.js';
import { KioskServices } from './kiosk-services.js';
import { DemoUpstream } from './upstream.js';

export interface DemoWorldOptions {
  dir: string;
  /** The gateway page's port (the kiosks need the gateway's URL before it starts). */
  httpPort: number;
  /** Time compression of the scenario and the kiosks' pace (1: real time). */
  factor: number;
  /** The regency's own log (warnings to the terminal). */
  regencyLog: Logger;
}

export type WorldKiosk = DemoKiosk & { sim: KioskSim; powered: boolean };

/**
 * Everything around the gateway in the demo, on loopback in this process: the hall's router
 * and the ISP's ONT (ports the uplink probes watch), the public-service upstream, the
 * regency (its embedded broker, the real collector and fleet page on SQLite in the temp dir,
 * reached through a cuttable path), and the kiosks. The scenario acts on these parts only;
 * nothing outside the machine is touched.
 */
export class DemoWorld {
  readonly broker = new DemoBroker();
  readonly router = new DemoPort();
  readonly ont = new DemoPort();
  readonly upstream = new DemoUpstream();
  path: DemoPort | undefined;
  kiosks: WorldKiosk[] = [];
  services: KioskServices | undefined;
  regency: RegencyApp | undefined;
  /** The other villages of the regency, simulated (demo-fleet.ts). */
  fleet: Fleet | undefined;
  regencyCode: string | undefined;
  regencyPort = 0;
  configPath = '';

  constructor(private readonly o: DemoWorldOptions) {}

  get gateway(): string {
    return `http://127.0.0.1:${this.o.httpPort}`;
  }

  /** Starts the parts the gateway's config points at (not the regency), and writes that config. */
  async start(): Promise<void> {
    const { dir, factor } = this.o;
    await this.broker.start();
    this.path = new DemoPort({ host: '127.0.0.1', port: this.broker.port });
    await Promise.all([this.router.start(), this.ont.start(), this.path.start(), this.upstream.start()]);
    this.kiosks = demoKiosks(dir).map((k) => ({
      ...k,
      powered: false,
      sim: new KioskSim({
        gateway: this.gateway,
        deviceId: k.id,
        token: k.token,
        rate: 0.2 * factor,
        heartbeatMs: Math.max(1000, 10_000 / factor),
        healthPort: 0,
      }),
    }));
    for (const k of this.kiosks) await k.sim.startHealth();
    this.services = new KioskServices({
      svcBase: `${this.gateway}/svc/layanan`,
      intervalMs: Math.max(300, Math.round(3000 / factor)),
      writeEvery: 5,
    });
    this.configPath = writeDemoConfig(
      dir,
      {
        http: this.o.httpPort,
        router: this.router.port,
        ont: this.ont.port,
        upstream: this.upstream.port,
        regency: this.path.port,
      },
      this.kiosks.map((k) => ({ ...k, healthUrl: k.sim.healthUrl })),
    );
  }

  /** The kiosks begin their work (after the gateway listens). */
  async startKiosks(): Promise<void> {
    for (const k of this.kiosks) await this.powerOn(k.id);
  }

  async powerOff(id: string): Promise<void> {
    const k = this.kiosks.find((x) => x.id === id);
    if (!k?.powered) return;
    k.powered = false;
    this.services?.stop(k.id);
    await k.sim.stop();
  }

  async powerOn(id: string): Promise<void> {
    const k = this.kiosks.find((x) => x.id === id);
    if (!k || k.powered) return;
    k.powered = true;
    await k.sim.start();
    this.services?.start(k.id, k.token);
  }

  /** The other villages on the regency wall (after the regency started, so it hears their births). */
  startFleet(o: { exclude: string; count: number; log: Logger }): void {
    this.fleet = startDemoFleet({ brokerUrl: this.broker.url, speed: this.o.factor, ...o });
  }

  async stop(): Promise<void> {
    await this.fleet?.stop();
    this.services?.stopAll();
    await Promise.all(this.kiosks.map((k) => k.sim.stop()));
    await this.regency?.stop();
    await Promise.all([this.router.cut(), this.ont.cut(), this.path?.cut(), this.upstream.stop()]);
    await this.broker.stop();
  }

  /** The regency (collector and fleet page); may start alongside the gateway. */
  async startRegency(): Promise<void> {
    const dir = join(this.o.dir, 'regency');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'regency.yaml');
    const config = {
      regency: { name: 'Kabupaten Banyuwangi (demo)' },
      data_dir: join(dir, 'data'),
      log_level: 'warn',
      http: { listen: '127.0.0.1:0', metrics: true },
      mqtt: { url: this.broker.url, client_id: 'demo-regency', protocol_version: 4, reconnect_s: 0.5 },
      silent_after_s: 60,
    };
    writeFileSync(file, `# kampung-gw demo regency (generated)\n${stringify(config)}`);
    const { RegencyApp } = await import('../regency/regency-app.js');
    const app = new RegencyApp({
      config: loadRegencyConfig(file).config,
      log: this.o.regencyLog,
      clock: new SystemClock(),
      showSetupCode: (code) => {
        this.regencyCode = code;
      },
    });
    this.regency = app;
    await app.start();
    this.regencyPort = app.http?.address?.port ?? 0;
  }
}
