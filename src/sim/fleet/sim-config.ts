import { stringify } from 'yaml';
import { formatIssues } from '../../config/issues.js';
import { validateConfigText } from '../../config/loader.js';
import type { Config } from '../../config/schema.js';
import { GwError } from '../../core/errors.js';

export interface BrokerArgs {
  url: string;
  prefix: string;
  protocol: 4 | 5;
  username?: string;
  passwordFile?: string;
  caFile?: string;
}

/**
 * The gateway config every simulated village runs with (its id and name swapped in):
 * validated by the daemon's own schema, so the broker settings get the same defaults and
 * checks as on a real box, and `get-config` answers with a plausible hall.
 */
export function simGatewayConfig(b: BrokerArgs): Config {
  const raw = {
    gateway: { id: '3510010001', name: 'Desa Simulasi' },
    data_dir: '/var/lib/kampung-gateway',
    uplink: {
      probes: [
        { name: 'router', layer: 'lan', type: 'icmp', host: '192.168.1.1' },
        { name: 'ont', layer: 'isp', type: 'icmp', host: '10.0.0.1' },
        { name: 'dns', layer: 'dns', type: 'dns', server: '1.1.1.1', query: 'banyuwangikab.go.id' },
        { name: 'anchor1', layer: 'internet', type: 'tcp', host: '1.1.1.1', port: 443 },
        {
          name: 'regency',
          layer: 'regency',
          type: 'http',
          url: 'https://layanan.example/health',
          interval_s: 30,
        },
      ],
    },
    devices: [
      { id: 'adm-1', name: 'Anjungan Mandiri 1', kind: 'kiosk', heartbeat_timeout_s: 120 },
      { id: 'adm-2', name: 'Anjungan Mandiri 2', kind: 'kiosk', heartbeat_timeout_s: 120 },
      { id: 'prn-1', name: 'Printer Pelayanan', kind: 'printer' },
      { id: 'ap-1', name: 'Access Point Balai', kind: 'access_point' },
    ],
    mqtt: {
      url: b.url,
      protocol_version: b.protocol,
      topic_prefix: b.prefix,
      ...(b.username ? { username: b.username } : {}),
      ...(b.passwordFile ? { password_file: b.passwordFile } : {}),
      ...(b.caFile ? { ca_file: b.caFile } : {}),
    },
    cache: {
      upstreams: [{ name: 'layanan', base_url: 'https://layanan.example/api', prefetch: ['/katalog'] }],
    },
  };
  const r = validateConfigText(stringify(raw), 'fleet-sim');
  if (!r.ok) throw new GwError('GW_ERR_USAGE', formatIssues('fleet-sim broker settings', r.issues));
  return r.config;
}
