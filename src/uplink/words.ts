import { wibTime as wib } from '../core/wib.js';
import type { LinkStatus } from '../status/types.js';

export const LAYER_WORDS: Record<string, string> = {
  lan: 'Router/LAN',
  isp: 'Fiber/ISP',
  dns: 'DNS',
  internet: 'Internet',
  regency: 'Server kabupaten',
};

const STATE_WORDS: Record<string, string> = {
  up: 'normal',
  degraded: 'TERGANGGU',
  down: 'PUTUS',
  unknown: 'tidak diketahui',
};

/** What a technician should do first, per failing layer (Indonesian, English in brackets). */
export const FAULT_HINTS: Record<string, string> = {
  lan: 'Router/LAN putus — periksa daya dan kabel router balai desa (router/LAN down: check the router power and cable)',
  isp: 'Fiber/ISP putus — periksa lampu LOS pada ONT; jika merah, lapor ke ISP (fiber/ISP down: check the ONT LOS light, call the ISP)',
  dns: 'DNS tidak menjawab — periksa setelan DNS di router (DNS not answering: check the router DNS settings)',
  internet: 'Internet putus di luar jaringan ISP — lapor ke ISP (no internet beyond the ISP: call the ISP)',
  regency:
    'Server kabupaten tidak terjangkau, internet normal — lapor ke Diskominfo (regency server unreachable: call Diskominfo)',
};

const VERDICT_WORDS: Record<string, string> = {
  up: 'NORMAL (up)',
  degraded: 'TERGANGGU (degraded) — koneksi lambat atau banyak paket hilang (slow or lossy)',
  down: 'PUTUS (down)',
  unknown: 'BELUM DIKETAHUI (unknown)',
};

function minutes(fromIso: string, nowMs: number): string {
  const m = Math.max(0, Math.round((nowMs - Date.parse(fromIso)) / 60_000));
  return m < 60 ? `${m} menit` : `${Math.floor(m / 60)} jam ${m % 60} menit`;
}

/** The link part of `kampung-gw status`: verdict, the advice, each layer, the running outage. */
export function formatLink(l: LinkStatus, nowMs: number): string[] {
  const lines = [`Uplink   ${VERDICT_WORDS[l.verdict] ?? l.verdict}; sejak ${wib(l.since)}`];
  if (l.verdict === 'down' && l.fault_layer)
    lines.push(`  >> ${FAULT_HINTS[l.fault_layer] ?? l.fault_layer}`);
  for (const [name, layer] of Object.entries(l.layers)) {
    const loss = layer.loss_pct === null ? '—' : `${layer.loss_pct}%`;
    const rtt = layer.rtt_ms === null ? '—' : `${layer.rtt_ms} ms`;
    const label = (LAYER_WORDS[name] ?? name).padEnd(17);
    lines.push(
      `  ${label} ${(STATE_WORDS[layer.state] ?? layer.state).padEnd(16)} hilang ${loss.padStart(5)}  rtt ${rtt}`,
    );
  }
  if (l.outage) {
    const where = l.outage.fault_layer ? (LAYER_WORDS[l.outage.fault_layer] ?? l.outage.fault_layer) : '?';
    lines.push(
      `  Gangguan berjalan sejak ${wib(l.outage.start)} (${minutes(l.outage.start, nowMs)}), lapisan ${where}`,
    );
  }
  for (const p of l.problems ?? [])
    lines.push(`  ! ${p.replace('fping not found', 'fping tidak terpasang (fping not installed)')}`);
  const i = l.iface;
  if (i?.name) {
    const speed = i.speed_mbps ? `, ${i.speed_mbps} Mbit/s` : '';
    const wifi = i.wireless ? `, WiFi "${i.ssid ?? '?'}" ${i.signal_dbm ?? '?'} dBm` : '';
    lines.push(`  Antarmuka ${i.name} ${i.operstate ?? '?'}${speed}${wifi}`);
    if (i.today) {
      const mb = (b: number) => (b / 1048576).toFixed(1);
      lines.push(`  Trafik hari ini: unduh ${mb(i.today.rx_bytes)} MB, unggah ${mb(i.today.tx_bytes)} MB`);
    }
  }
  return lines;
}
