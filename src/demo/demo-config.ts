import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

export interface DemoKiosk {
  id: string;
  name: string;
  token: string;
  /** Stops (heartbeats and health endpoint) after this many seconds, to show a kiosk going offline. */
  diesAfterS?: number;
}

const KIOSKS = [
  { id: 'adm-1', name: 'Anjungan Mandiri 1' },
  { id: 'adm-2', name: 'Anjungan Mandiri 2' },
  // Goes quiet after two minutes, so the page shows a kiosk going offline.
  { id: 'adm-3', name: 'Anjungan Mandiri 3 (mati setelah 2 menit)', diesAfterS: 120 },
];

/** Kiosk ids, names and tokens (tokens also written to files for the config). */
export function demoKiosks(dir: string): DemoKiosk[] {
  const tokens = join(dir, 'tokens');
  mkdirSync(tokens, { recursive: true, mode: 0o700 });
  return KIOSKS.map((k) => {
    const token = randomBytes(24).toString('base64url');
    writeFileSync(join(tokens, `${k.id}.token`), `${token}\n`, { mode: 0o600 });
    return { id: k.id, name: k.name, token, diesAfterS: k.diesAfterS };
  });
}

/** Writes the demo's config into `dir`; everything points at loopback. */
export function writeDemoConfig(
  dir: string,
  ports: { http: number; mqtt: number; regencyHttp: number },
  kiosks: Array<DemoKiosk & { healthUrl: string }>,
): string {
  const tokens = join(dir, 'tokens');
  const config = {
    gateway: { id: '3510170012', name: 'Desa Kemiren (demo)' },
    data_dir: join(dir, 'data'),
    log_level: 'info',
    http: { listen: `127.0.0.1:${ports.http}`, metrics: true },
    uplink: {
      probes: [
        { name: 'router', layer: 'lan', type: 'tcp', host: '127.0.0.1', port: ports.mqtt },
        {
          name: 'regency',
          layer: 'regency',
          type: 'http',
          url: `http://127.0.0.1:${ports.regencyHttp}/health`,
        },
      ],
    },
    devices: [
      ...kiosks.map((k) => ({
        id: k.id,
        name: k.name,
        kind: 'kiosk',
        token_file: join(tokens, `${k.id}.token`),
        heartbeat_timeout_s: 30,
        checks: [{ type: 'http', url: k.healthUrl, interval_s: 10 }],
      })),
      { id: 'printer-1', name: 'Printer Pelayanan', kind: 'printer', checks: [] },
    ],
    mqtt: { url: `mqtt://127.0.0.1:${ports.mqtt}`, protocol_version: 4, health_interval_s: 10 },
    cache: { max_mb: 16, upstreams: [] },
  };
  const configPath = join(dir, 'config.yaml');
  writeFileSync(configPath, `# kampung-gw demo (generated)\n${stringify(config)}`);
  return configPath;
}
