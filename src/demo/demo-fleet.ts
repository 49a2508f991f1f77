import type { Logger } from '../core/logger.js';
import { Fleet } from '../sim/fleet/fleet.js';
import { simGatewayConfig } from '../sim/fleet/sim-config.js';
import { bundledVillagesPath, loadVillages } from '../sim/fleet/villages.js';
import { readVersion } from '../version.js';

export interface DemoFleetOptions {
  brokerUrl: string;
  /** The demo's own village: the real gateway speaks for it. */
  exclude: string;
  /** How many of the other villages to simulate (the list's order). */
  count: number;
  /** The demo's time compression: the fleet's days pass as fast as the scenario's. */
  speed: number;
  log: Logger;
}

/**
 * The rest of the regency around the demo's one real gateway: the other villages of the
 * bundled Banyuwangi list as simulated gateways (the fleet simulator: the real report code,
 * envelopes, Wills and outbox replays, random PLN and fiber cuts), each with its own
 * connection to the demo's broker, so the fleet wall is alive. Undefined when count is 0.
 */
export function startDemoFleet(o: DemoFleetOptions): Fleet | undefined {
  if (o.count <= 0) return undefined;
  const villages = loadVillages(bundledVillagesPath())
    .filter((v) => v.code !== o.exclude)
    .slice(0, o.count);
  const config = simGatewayConfig({ url: o.brokerUrl, prefix: 'kampung/v1', protocol: 4 });
  const mqtt = config.mqtt;
  if (!mqtt) return undefined;
  const fleet = new Fleet({
    villages,
    mqtt,
    config,
    version: readVersion(),
    seed: 'demo',
    speed: o.speed,
    durationS: undefined,
    lingerS: 0,
    faults: [],
    faultRate: 1,
    usagePerHour: 12,
    healthIntervalS: 60,
    keep: 200,
    // Jittered first connects over ten simulated seconds: the wall fills in within moments.
    connectDelayMaxS: 10,
    perConnection: 1,
    connectConcurrency: 20,
    log: o.log,
    progress: () => undefined,
  });
  fleet.start();
  return fleet;
}
