#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { KioskSim } from './kiosk.js';

export { type KioskOptions, KioskSim, type KioskStats, type KioskTelemetry } from './kiosk.js';
export { KIOSK_SERVICES, pickService } from './services.js';

const HELP = `kiosk-sim — simulated anjungan mandiri for kampung-gateway

  node dist/sim/kiosk-sim.js --gateway URL --device ID (--token-file F | --token T) [options]

  --rate N           usage events per second (default 1)
  --batch N          events per request, at most (default 20)
  --heartbeat-s N    seconds between heartbeats (default 10)
  --health-port N    port of the kiosk's GET /health (default 0 = any; -1 = none)
  --paper ok|low|out telemetry paper level (default ok)
  --duration-s N     stop after N seconds (default: run until Ctrl-C)
`;

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      gateway: { type: 'string' },
      device: { type: 'string' },
      token: { type: 'string' },
      'token-file': { type: 'string' },
      rate: { type: 'string', default: '1' },
      batch: { type: 'string', default: '20' },
      'heartbeat-s': { type: 'string', default: '10' },
      'health-port': { type: 'string', default: '0' },
      paper: { type: 'string', default: 'ok' },
      'duration-s': { type: 'string', default: '0' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const token =
    values.token ?? (values['token-file'] ? readFileSync(values['token-file'], 'utf8').trim() : '');
  if (values.help || !values.gateway || !values.device || !token) {
    process.stderr.write(HELP);
    return values.help ? 0 : 2;
  }
  const healthPort = Number(values['health-port']);
  const kiosk = new KioskSim({
    gateway: values.gateway.replace(/\/$/, ''),
    deviceId: values.device,
    token,
    rate: Number(values.rate),
    batchMax: Number(values.batch),
    heartbeatMs: Number(values['heartbeat-s']) * 1000,
    healthPort: healthPort < 0 ? null : healthPort,
    trackIds: false,
  });
  if (values.paper === 'low' || values.paper === 'out') kiosk.telemetry.paper = values.paper;
  await kiosk.start();
  if (healthPort >= 0) process.stdout.write(`${JSON.stringify({ health: kiosk.healthUrl })}\n`);
  const report = setInterval(() => process.stdout.write(`${JSON.stringify(kiosk.stats)}\n`), 5000);
  await new Promise<void>((resolve) => {
    const duration = Number(values['duration-s']);
    if (duration > 0) setTimeout(resolve, duration * 1000);
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  clearInterval(report);
  await kiosk.drain(3000);
  await kiosk.stop();
  process.stdout.write(`${JSON.stringify(kiosk.stats)}\n`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
