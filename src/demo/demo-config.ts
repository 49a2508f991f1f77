import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

export interface DemoKiosk {
  id: string;
  name: string;
  token: string;
}

const KIOSKS = [
  { id: 'adm-1', name: 'Anjungan Mandiri 1' },
  { id: 'adm-2', name: 'Anjungan Mandiri 2' },
  // The scenario cuts this one's power for a while.
  { id: 'adm-3', name: 'Anjungan Mandiri 3' },
];

/** Kiosk ids, names and tokens (tokens also written to files for the config). */
export function demoKiosks(dir: string): DemoKiosk[] {
  const tokens = join(dir, 'tokens');
  mkdirSync(tokens, { recursive: true, mode: 0o700 });
  return KIOSKS.map((k) => {
    const token = randomBytes(24).toString('base64url');
    writeFileSync(join(tokens, `${k.id}.token`), `${token}\n`, { mode: 0o600 });
    return { id: k.id, name: k.name, token };
  });
}

/** Loopback ports of the demo's pieces; each stands for something on a real village's path. */
export interface DemoPorts {
  http: number;
  /** The hall's router (lan layer). */
  router: number;
  /** The ISP's ONT (isp layer): what the fiber cut takes away. */
  ont: number;
  /** The simulated public-service upstream (internet layer and the /svc upstream). */
  upstream: number;
  /** The village's path to the regency broker (regency layer and MQTT). */
  regency: number;
}

/** Writes the demo's config into `dir`; everything points at loopback. */
export function writeDemoConfig(
  dir: string,
  ports: DemoPorts,
  kiosks: Array<DemoKiosk & { healthUrl: string }>,
): string {
  const tokens = join(dir, 'tokens');
  const tcp = (name: string, layer: string, port: number) => ({
    name,
    layer,
    type: 'tcp',
    host: '127.0.0.1',
    port,
    interval_s: 1,
    timeout_ms: 500,
  });
  const upstream = `http://127.0.0.1:${ports.upstream}`;
  const config = {
    gateway: { id: '3510170012', name: 'Desa Kemiren (demo)' },
    data_dir: join(dir, 'data'),
    log_level: 'info',
    http: { listen: `127.0.0.1:${ports.http}`, metrics: true },
    // The simulated box has a synced clock (its own flag file, not the host's systemd one), so
    // the story is not mixed up with the "clock not synced" warning of a box without RTC.
    system: { timesync_flag: join(dir, 'timesync-synchronized') },
    uplink: {
      probes: [
        tcp('router', 'lan', ports.router),
        tcp('ont', 'isp', ports.ont),
        {
          name: 'layanan',
          layer: 'internet',
          type: 'http',
          url: `${upstream}/health`,
          interval_s: 1,
          timeout_ms: 800,
        },
        tcp('regency', 'regency', ports.regency),
      ],
    },
    devices: [
      ...kiosks.map((k) => ({
        id: k.id,
        name: k.name,
        kind: 'kiosk',
        token_file: join(tokens, `${k.id}.token`),
        heartbeat_timeout_s: 30,
        checks: [{ type: 'http', url: k.healthUrl, interval_s: 2 }],
      })),
      { id: 'printer-1', name: 'Printer Pelayanan', kind: 'printer', checks: [] },
    ],
    mqtt: {
      url: `mqtt://127.0.0.1:${ports.regency}`,
      protocol_version: 4,
      health_interval_s: 10,
      connect_delay_max_s: 0,
      reconnect_min_s: 0.5,
      reconnect_max_s: 3,
    },
    cache: {
      max_mb: 16,
      upstreams: [
        {
          name: 'layanan',
          base_url: upstream,
          ttl_s: 60,
          prefetch: ['/katalog', '/pengumuman', '/formulir/ktp-el.pdf', '/formulir/kartu-keluarga.pdf'],
          prefetch_cron: '*/5 * * * *',
          offline_writes: true,
          timeout_ms: 1500,
        },
      ],
    },
  };
  writeFileSync(join(dir, 'timesync-synchronized'), '');
  const configPath = join(dir, 'config.yaml');
  writeFileSync(configPath, `# kampung-gw demo (generated)\n${stringify(config)}`);
  return configPath;
}
