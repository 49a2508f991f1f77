import type { FleetVillage } from '../fleet.js';
import type { VillageRow } from '../store/read-repo.js';
import type { StoredMessage } from '../store/village-repo.js';

type Json = Record<string, unknown>;
const VERDICTS = ['up', 'degraded', 'down', 'unknown'] as const;
/** Worst first: a bucket shows the worst verdict any of its samples had. */
const WORST = ['down', 'degraded', 'unknown', 'up'] as const;

function parse(text: string | null | undefined): Json | null {
  if (!text) return null;
  try {
    return JSON.parse(text) as Json;
  } catch {
    return null;
  }
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const bool = (v: unknown): boolean | null => (typeof v === 'boolean' ? v : null);

/** The village page's one answer: the fleet tile, plus devices, link layers and box health. */
export function villageDetail(
  tile: FleetVillage,
  row: VillageRow | undefined,
  devices: ReadonlyArray<{ device_id: string; state: string; data: string }>,
  healthMs: number | null,
) {
  const link = parse(row?.link);
  const health = parse(row?.health);
  const sys = (health?.system ?? {}) as Json;
  const clock = (health?.clock ?? {}) as Json;
  const outbox = (health?.outbox ?? {}) as Json;
  const gateway = (health?.gateway ?? {}) as Json;
  return {
    ...tile,
    devices: devices.map((d) => {
      const p = parse(d.data) ?? {};
      return {
        id: d.device_id,
        name: str(p.name),
        kind: str(p.kind),
        state: d.state,
        since: str(p.since),
        reason: str(p.reason),
        last_heartbeat: str(p.last_heartbeat),
      };
    }),
    device_counts: tile.devices,
    online: row?.online === null || row?.online === undefined ? null : row.online === 1,
    link: link
      ? {
          verdict: str(link.verdict) ?? 'unknown',
          fault_layer: str(link.fault_layer),
          since: str(link.since),
          layers: (link.layers ?? {}) as Record<string, { state: string }>,
        }
      : null,
    box: health
      ? {
          at: healthMs === null ? null : new Date(healthMs).toISOString(),
          system: {
            cpu_load: num(sys.cpu_load),
            temperature_c: num(sys.temperature_c),
            throttled: bool(sys.throttled),
            memory_used_pct: num(sys.memory_used_pct),
            disk_used_pct: num(sys.disk_used_pct),
            rss_mb: num(sys.rss_mb),
          },
          clock: { synced: clock.synced === true, last_jump_s: num(clock.last_jump_s) },
          outbox: {
            depth: num(outbox.depth) ?? 0,
            bytes: num(outbox.bytes) ?? 0,
            oldest_age_s: num(outbox.oldest_age_s),
            connected: outbox.connected === true,
            dropped: (outbox.dropped ?? {}) as Record<string, number>,
          },
          started_at: str(gateway.started_at),
        }
      : null,
    boot: row?.boot ?? null,
  };
}

/**
 * Health messages → at most one point per bucket: how many link verdict samples were up,
 * degraded, down or unknown (a folded summary counts all the samples it stands for), the share
 * up, and the worst verdict seen. Empty buckets are left out: no message is not "up".
 */
export function bucketHealth(msgs: readonly StoredMessage[], fromMs: number, bucketMs: number) {
  const buckets = new Map<number, { counts: Record<string, number>; fault: string | null }>();
  for (const m of msgs) {
    const d = parse(m.data);
    if (!d) continue;
    const link = (d.link ?? {}) as Json;
    const summary = (d.summary ?? null) as { link_verdicts?: Record<string, number> } | null;
    const k = Math.floor((m.atMs - fromMs) / bucketMs);
    const b = buckets.get(k) ?? { counts: {}, fault: null };
    const add = summary?.link_verdicts ?? { [str(link.verdict) ?? 'unknown']: 1 };
    for (const [v, n] of Object.entries(add)) {
      const key = (VERDICTS as readonly string[]).includes(v) ? v : 'unknown';
      b.counts[key] = (b.counts[key] ?? 0) + (Number(n) || 0);
    }
    b.fault = str(link.fault_layer) ?? b.fault;
    buckets.set(k, b);
  }
  return [...buckets.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([k, b]) => {
      const c = (v: string) => b.counts[v] ?? 0;
      const samples = VERDICTS.reduce((s, v) => s + c(v), 0);
      return {
        t: new Date(fromMs + k * bucketMs).toISOString(),
        samples,
        up: c('up'),
        degraded: c('degraded'),
        down: c('down'),
        unknown: c('unknown'),
        up_pct: samples > 0 ? Math.round((c('up') / samples) * 1000) / 10 : null,
        verdict: WORST.find((v) => c(v) > 0) ?? 'unknown',
        fault_layer: b.fault,
      };
    });
}

/** Outage messages overlapping [fromMs, toMs], newest first, with the one still open (if any) on top. */
export function outagesFrom(
  msgs: readonly StoredMessage[],
  linkText: string | null,
  fromMs: number,
  toMs: number,
) {
  const out = [];
  const seen = new Set<string>();
  for (const m of msgs) {
    const d = parse(m.data);
    const start = str(d?.start);
    const end = str(d?.end);
    if (!d || !start || !end) continue;
    if (Date.parse(start) > toMs || Date.parse(end) < fromMs) continue;
    // The same outage sent twice (a new id after a power cut) is listed once.
    const key = `${start}|${end}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({
      start,
      end,
      duration_s: num(d.duration_s),
      fault_layer: str(d.fault_layer),
      interrupted: d.interrupted === true,
      ongoing: false,
    });
  }
  out.sort((a, b) => Date.parse(b.start) - Date.parse(a.start));
  const open = (parse(linkText)?.outage ?? null) as { start?: string; fault_layer?: string | null } | null;
  if (open?.start && Date.parse(open.start) <= toMs)
    out.unshift({
      start: open.start,
      end: null,
      duration_s: null,
      fault_layer: open.fault_layer ?? null,
      interrupted: false,
      ongoing: true,
    });
  return out;
}
