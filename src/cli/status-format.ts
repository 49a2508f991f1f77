import { wibTime as wib } from '../core/wib.js';
import type { StatusObject } from '../status/types.js';
import { formatLink } from '../uplink/words.js';

/** The human report of `kampung-gw status`, Indonesian first with English in brackets. */
export function formatStatus(s: StatusObject): string {
  const lines: string[] = [];
  const g = s.gateway;
  lines.push(`Gateway  ${g.id} ${g.name}  v${g.version}`);
  lines.push(
    `Daemon   ${g.running ? 'berjalan (running)' : 'tidak berjalan (not running)'}; mulai ${wib(g.started_at)}` +
      (g.running ? '' : `; terakhir hidup ${wib(g.last_alive)}`),
  );
  lines.push(...formatLink(s.link, Date.now()));
  lines.push(`Perangkat (devices): ${s.devices.length}`);
  for (const d of s.devices) {
    lines.push(
      `  ${d.id.padEnd(12)} ${d.state.padEnd(8)} ${d.reason ?? ''}${d.last_heartbeat ? ` heartbeat ${wib(d.last_heartbeat)}` : ''}`,
    );
  }
  const o = s.outbox;
  const dropped = Object.entries(o.dropped)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  lines.push(
    `Outbox   ${o.depth} pesan, ${(o.bytes / 1024).toFixed(1)} KiB; broker ${o.connected ? 'terhubung' : 'tidak terhubung'}` +
      (dropped ? `; dibuang: ${dropped}` : ''),
  );
  lines.push(`Cache    ${s.cache.entries} entri, ${(s.cache.bytes / 1048576).toFixed(1)} MiB`);
  const sys = s.system;
  const fmt = (v: number | null, unit: string) => (v === null ? '—' : `${v}${unit}`);
  const extra = sys as typeof sys & { throttled_flags?: string[] | null; disk_state?: string };
  lines.push(
    `Sistem   beban ${fmt(sys.cpu_load, '')}, suhu ${fmt(sys.temperature_c, '°C')}, memori ${fmt(sys.memory_used_pct, '%')}, disk ${fmt(sys.disk_used_pct, '%')}, RSS ${fmt(sys.rss_mb, ' MB')}` +
      (extra.disk_state && extra.disk_state !== 'ok' ? `; DISK ${extra.disk_state.toUpperCase()}` : '') +
      (extra.throttled_flags?.length ? `; firmware: ${extra.throttled_flags.join(', ')}` : ''),
  );
  lines.push(
    `Jam      ${s.clock.synced ? 'tersinkron (synced)' : 'BELUM tersinkron (not synced)'}` +
      (s.clock.last_jump_s !== null ? `; lonjakan terakhir ${s.clock.last_jump_s} s (last jump)` : ''),
  );
  return lines.join('\n');
}
