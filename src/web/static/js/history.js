// The uplink module's history answer, normalised for the charts. Its rows are
// `{ rows: [ { t, key: 'layer:lan' | 'probe:router' | 'link', loss_pct, rtt_avg_ms } ] }`: the
// charts use the `layer:*` keys. Also accepted: rows with a `layer` field, or columns per layer
// `{ layers: { lan: { t: [...], loss_pct: [...], rtt_ms: [...] } } }`; times as epoch s/ms or
// ISO. Returns { t: [epoch s], series: { layer: { loss: [], rtt: [] } } }.
function toSec(v) {
  if (typeof v === 'number') return v > 1e12 ? v / 1000 : v;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? null : ms / 1000;
}

export function normaliseHistory(raw) {
  if (!raw) return null;
  const byLayer = new Map();
  const add = (layer, t, loss, rtt) => {
    const ts = toSec(t);
    if (ts === null || !layer) return;
    if (!byLayer.has(layer)) byLayer.set(layer, new Map());
    byLayer.get(layer).set(ts, [loss ?? null, rtt ?? null]);
  };
  if (raw.layers && typeof raw.layers === 'object') {
    for (const [layer, cols] of Object.entries(raw.layers)) {
      const times = cols.t ?? cols.ts ?? cols.time ?? [];
      times.forEach((tv, i) => {
        add(layer, tv, cols.loss_pct?.[i], cols.rtt_ms?.[i]);
      });
    }
  }
  const rows = raw.points ?? raw.samples ?? raw.rows ?? raw.history ?? (Array.isArray(raw) ? raw : []);
  for (const r of rows) {
    const layer = typeof r.key === 'string' ? (r.key.startsWith('layer:') ? r.key.slice(6) : null) : r.layer;
    add(layer, r.t ?? r.ts ?? r.at ?? r.bucket ?? r.start, r.loss_pct, r.rtt_ms ?? r.rtt_avg_ms);
  }
  const all = new Set();
  for (const m of byLayer.values()) for (const k of m.keys()) all.add(k);
  const t = [...all].sort((a, b) => a - b);
  const series = {};
  for (const [layer, m] of byLayer) {
    series[layer] = {
      loss: t.map((x) => m.get(x)?.[0] ?? null),
      rtt: t.map((x) => m.get(x)?.[1] ?? null),
    };
  }
  return { t, series };
}

/** `uptime_30d: { 'layer:lan': { up_pct }, link: { up_pct } }` (or a plain map) → { name: pct }. */
export function normaliseUptime(raw) {
  const src = raw?.uptime_30d ?? raw?.uptime ?? raw?.monthly_uptime ?? null;
  if (!src || typeof src !== 'object') return null;
  const out = {};
  for (const [key, v] of Object.entries(src)) {
    if (key.startsWith('probe:')) continue;
    out[key.replace(/^layer:/, '')] = typeof v === 'number' ? v : (v?.up_pct ?? null);
  }
  return out;
}

export function normaliseOutages(raw) {
  if (!raw) return null;
  const list = Array.isArray(raw) ? raw : (raw.outages ?? raw.items ?? []);
  return list.map((o) => ({
    start: o.start ?? o.start_at ?? null,
    end: o.end ?? o.end_at ?? null,
    duration_s: o.duration_s ?? (o.end && o.start ? (Date.parse(o.end) - Date.parse(o.start)) / 1000 : null),
    fault_layer: o.fault_layer ?? o.layer ?? null,
  }));
}
