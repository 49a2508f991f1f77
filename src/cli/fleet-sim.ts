import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { GwError } from '../core/errors.js';
import { createLogger, LOG_LEVELS, type LogLevel } from '../core/logger.js';
import { Fleet } from '../sim/fleet/fleet.js';
import { parseFault } from '../sim/fleet/scenario.js';
import { simGatewayConfig } from '../sim/fleet/sim-config.js';
import { bundledVillagesPath, loadVillages, takeVillages, villagesCsv } from '../sim/fleet/villages.js';
import { readVersion } from '../version.js';
import type { CommonArgs } from './args.js';
import type { CliIo } from './io.js';

export const FLEET_SIM_USAGE = `kampung-gw fleet-sim --mqtt URL [options]

Simulated village gateways (the daemon's own report code) publishing to a regency broker.
  --mqtt URL               broker, mqtt:// or mqtts:// (required)
  --villages N             first N of the list (default: all; past its end, made-up codes)
  --villages-file F        code,name,kecamatan[,isp] CSV (default: the bundled Banyuwangi 203)
  --speed X                simulated time = real time × X (default 1)
  --duration S             real seconds of simulation (default: until Ctrl-C)
  --linger S               real seconds to stay connected answering commands afterwards (default 0)
  --seed S                 same seed, same scenario (default 1)
  --prefix P               topic prefix (default kampung/v1)
  --username U, --password-file F, --ca-file F, --protocol 4|5
  --fault KIND:AT:DUR[:SEL] scripted fault; KIND fiber|power|lan|degraded|device|regency; AT and DUR in
                           simulated time (90, 15m, 2h); SEL a code, kecamatan or ISP, '+' = and
  --fault-rate X           random fault rates × X (default 1; 0 = scripted faults only)
  --usage-per-hour N       kiosk sessions per kiosk per simulated opening hour (default 12)
  --health-interval S      simulated seconds between health messages (default 60)
  --keep N                 acknowledged envelopes kept per village for resend (default 2000)
  --per-connection N       villages sharing one MQTT connection (default 1: each its own, with
                           its Will; N > 1 for loads a box cannot hold one socket per village:
                           no per-village Will, a cut village just falls silent)
  --connect-concurrency N  CONNECTs in progress at once (default 100)
  --connect-delay S        simulated seconds a box waits at most before its first connect
                           (default 30, the daemon's mqtt.connect_delay_max_s)
  --start TIME             simulated time at the start, ISO 8601 (default now; a past day replays)
  --truth F                at the end, write what was done to each village as JSON:
                           { origin, speed, down: [{ code, why: link|power, layer, start, end }] }
  --write-villages F       write the simulated villages as code,name,kecamatan,isp and go on
  --log-level L            log level on stderr (default warn)
Last line on stdout: {"villages":N,"published":{"total":n,"health":n,...},"resent":n}
`;

const OPTIONS = {
  mqtt: { type: 'string' },
  villages: { type: 'string' },
  'villages-file': { type: 'string' },
  speed: { type: 'string' },
  duration: { type: 'string' },
  linger: { type: 'string' },
  seed: { type: 'string' },
  prefix: { type: 'string' },
  username: { type: 'string' },
  'password-file': { type: 'string' },
  'ca-file': { type: 'string' },
  protocol: { type: 'string' },
  fault: { type: 'string', multiple: true },
  'fault-rate': { type: 'string' },
  'usage-per-hour': { type: 'string' },
  'health-interval': { type: 'string' },
  keep: { type: 'string' },
  'connect-concurrency': { type: 'string' },
  'per-connection': { type: 'string' },
  'connect-delay': { type: 'string' },
  start: { type: 'string' },
  truth: { type: 'string' },
  'write-villages': { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** After --duration, how long to wait for every village to reconnect and empty its outbox. */
const DRAIN_TIMEOUT_S = 120;

function num(v: string | undefined, name: string, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new GwError('GW_ERR_USAGE', `--${name} must be a number from ${min} to ${max}`);
  return n;
}

/** `kampung-gw fleet-sim`: see FLEET_SIM_USAGE and docs/fleet-sim.md. */
export async function fleetSimCommand(args: CommonArgs, io: CliIo): Promise<number> {
  let v: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: false }>>['values'];
  try {
    v = parseArgs({ args: args.positionals, options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new GwError('GW_ERR_USAGE', (err as Error).message);
  }
  if (v.help) {
    io.out(FLEET_SIM_USAGE);
    return 0;
  }
  if (!v.mqtt) throw new GwError('GW_ERR_USAGE', 'fleet-sim needs --mqtt URL');
  const level = (v['log-level'] ?? 'warn') as LogLevel;
  if (!(LOG_LEVELS as readonly string[]).includes(level))
    throw new GwError('GW_ERR_USAGE', `--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  const protocol = num(v.protocol, 'protocol', 5, 4, 5);
  if (protocol !== 4 && protocol !== 5) throw new GwError('GW_ERR_USAGE', '--protocol must be 4 or 5');
  const config = simGatewayConfig({
    url: v.mqtt,
    prefix: v.prefix ?? 'kampung/v1',
    protocol,
    username: v.username,
    passwordFile: v['password-file'],
    caFile: v['ca-file'],
  });
  const mqtt = config.mqtt;
  if (!mqtt) throw new GwError('GW_ERR_USAGE', 'fleet-sim needs --mqtt URL');
  const list = loadVillages(v['villages-file'] ?? bundledVillagesPath());
  const n = Math.floor(num(v.villages, 'villages', list.length, 1, 100_000));
  const villages = takeVillages(list, n);
  const made = villages.filter((x) => x.synthetic).length;
  if (v['write-villages']) writeFileSync(v['write-villages'], villagesCsv(villages));
  const durationS =
    v.duration === undefined ? undefined : num(v.duration, 'duration', 0, 0, 10 * 365 * 86400);
  const lingerS = num(v.linger, 'linger', 0, 0, 365 * 86400);
  const speed = num(v.speed, 'speed', 1, 0.001, 1_000_000);
  const originWall = v.start === undefined ? undefined : Date.parse(v.start);
  if (originWall !== undefined && !Number.isFinite(originWall))
    throw new GwError('GW_ERR_USAGE', '--start must be an ISO 8601 time');
  const log = createLogger({ level, base: { component: 'fleet-sim' }, destination: pino.destination(2) });
  const fleet = new Fleet({
    villages,
    mqtt,
    config,
    version: readVersion(),
    seed: v.seed ?? '1',
    speed,
    ...(originWall !== undefined ? { originWall } : {}),
    durationS,
    lingerS,
    faults: (v.fault ?? []).map(parseFault),
    faultRate: num(v['fault-rate'], 'fault-rate', 1, 0, 1000),
    usagePerHour: num(v['usage-per-hour'], 'usage-per-hour', 12, 0, 100_000),
    healthIntervalS: num(v['health-interval'], 'health-interval', 60, 1, 3600),
    keep: Math.floor(num(v.keep, 'keep', 2000, 0, 10_000_000)),
    connectDelayMaxS: num(v['connect-delay'], 'connect-delay', mqtt.connect_delay_max_s, 0, 600),
    perConnection: Math.floor(num(v['per-connection'], 'per-connection', 1, 1, 10_000)),
    connectConcurrency: Math.floor(num(v['connect-concurrency'], 'connect-concurrency', 100, 1, 100_000)),
    log,
    progress: (line) => io.err(line),
  });
  const say = (line: string) => io.err(`fleet-sim: ${line}`);
  say(
    `${villages.length} villages${made ? ` (${made} made up past the list's ${list.length})` : ''} → ${v.mqtt}, ` +
      `speed ${speed}×, seed ${v.seed ?? '1'}`,
  );
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await runFleet(fleet, DRAIN_TIMEOUT_S, lingerS, stop.signal, say);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await fleet.stop();
  }
  if (v.truth) writeFileSync(v.truth, `${JSON.stringify(fleet.groundTruth())}\n`);
  const st = fleet.stats();
  say(`stopped; rss ${st.rssMb} MiB`);
  io.out(JSON.stringify(fleet.summary()));
  return 0;
}

async function runFleet(
  fleet: Fleet,
  drainTimeoutS: number,
  lingerS: number,
  signal: AbortSignal,
  say: (line: string) => void,
): Promise<void> {
  fleet.start();
  let reportedConnect = false;
  let lastProgress = performance.now();
  const tick = async () => {
    await fleet.sleep(200);
    const st = fleet.stats();
    if (!reportedConnect && st.allConnectedMs !== undefined) {
      reportedConnect = true;
      const s = st.allConnectedMs / 1000;
      const spread = (st.allConnectedMs - (st.firstConnectMs ?? 0)) / 1000;
      say(
        `all ${fleet.size} connected ${s.toFixed(2)} s after start, CONNACKs over ${spread.toFixed(2)} s ` +
          `(${Math.round(fleet.size / Math.max(spread, 0.001))}/s), rss ${st.rssMb} MiB`,
      );
    }
    if (performance.now() - lastProgress >= 10_000) {
      lastProgress = performance.now();
      const p = fleet.summary().published;
      say(
        `t+${fleet.simElapsedS()} s simulated, ${st.connectedNow}/${fleet.size} connected, published ${p.total}`,
      );
    }
  };
  // Without --duration this runs until a signal.
  while (!signal.aborted && !fleet.produced) await tick();
  if (signal.aborted) return;
  const drainStart = performance.now();
  while (!signal.aborted && !fleet.drained() && performance.now() - drainStart < drainTimeoutS * 1000)
    await tick();
  say(
    fleet.drained()
      ? `duration over; every village connected and drained after ${((performance.now() - drainStart) / 1000).toFixed(1)} s`
      : `duration over; some villages did not drain in ${drainTimeoutS} s (broker down?)`,
  );
  const lingerEnd = performance.now() + lingerS * 1000;
  while (!signal.aborted && performance.now() < lingerEnd) await tick();
}
