import { api } from '../api.js';
import { h, replace } from '../dom.js';
import { num } from '../format.js';
import { label, t } from '../i18n.js';
import { loadCharts, swatch } from './chart-parts.js';

/** Under the verdict: the last 24 h of every layer as one line of coloured periods each. */
export async function drawLayerStrips(box) {
  const [c, d] = await Promise.all([
    loadCharts(),
    api('GET', '/api/v1/charts/link?range=24h').catch(() => null),
  ]);
  if (!box.isConnected) return;
  replace(box, h('h2', {}, t('overview.last24h')));
  if (!d || d.layers.length === 0) {
    box.append(h('p', { class: 'muted' }, t('uplink.no_history')));
    return;
  }
  const from = Date.parse(d.from);
  const to = Date.parse(d.to);
  const step = d.step_s * 1000;
  const width = c.widthOf(box) - 24;
  const rows = [{ key: 'link', name: t('overview.link'), states: d.link }].concat(
    d.layers.map((l) => ({ key: l.layer, name: label('layer', l.layer), states: l })),
  );
  rows.forEach((r, i) => {
    const segments = c
      .bucketSegments(d.t, step, r.states)
      .map((g) => ({ ...g, title: label('state', g.state) }));
    box.append(
      h(
        'div',
        { class: 'strip-row', dataset: { layer: r.key } },
        h('span', { class: 'strip-name' }, r.name),
        c.stateStrip({
          from,
          to,
          segments,
          width,
          axis: i === rows.length - 1,
          label: `${r.name}: ${t('overview.last24h')}`,
        }),
      ),
    );
  });
  box.append(stateKey(c));
}

export function stateKey(c, states = ['up', 'degraded', 'down', 'unknown']) {
  return h(
    'p',
    { class: 'small state-key' },
    states.map((s) => [swatch(c.STATE_COLORS[s]), ` ${label('state', s)} `]),
  );
}

/** A week of box health per hour (sparklines) and the storage written per day against the budget. */
export async function drawHealthWeek(box) {
  const [c, d] = await Promise.all([loadCharts(), api('GET', '/api/v1/charts/system').catch(() => null)]);
  if (!box.isConnected) return;
  replace(box, h('h2', {}, t('health.week')));
  if (!d) {
    box.append(h('p', { class: 'muted' }, t('app.not_available')));
    return;
  }
  const width = Math.min(c.widthOf(box) - 24, 520);
  const max = (values) => values.reduce((m, v) => (v !== null && (m === null || v > m) ? v : m), null);
  const last = (values) => [...values].reverse().find((v) => v !== null) ?? null;
  const sum = (values) => values.reduce((a, v) => a + v, 0);
  const line = (key, values, text, opts = {}) =>
    h(
      'div',
      { class: 'spark-row', dataset: { series: key } },
      h('span', { class: 'spark-name' }, t(`health.${key}`)),
      h('span', { class: 'spark-value' }, text),
      c.sparkline({ values, width, label: t(`health.${key}`), ...opts }),
    );
  const temp = d.temperature_c_max;
  box.append(
    line(
      'temperature',
      temp,
      `${num(last(temp), ' °C', 1)} (${t('health.max')} ${num(max(temp), ' °C', 1)})`,
      {
        color: c.LAYER_COLORS.isp,
        max: Math.max(85, max(temp) ?? 0),
      },
    ),
    line('undervoltage', d.undervoltage, String(sum(d.undervoltage)), {
      bars: true,
      color: c.STATE_COLORS.down,
    }),
    line('throttled', d.throttled, String(sum(d.throttled)), { bars: true, color: c.LAYER_COLORS.regency }),
    line('memory', d.memory_pct_max, num(last(d.memory_pct_max), ' %'), {
      color: c.LAYER_COLORS.lan,
      max: 100,
    }),
    line('disk', d.disk_pct_max, num(last(d.disk_pct_max), ' %'), {
      color: c.LAYER_COLORS.internet,
      max: 100,
    }),
    h('p', { class: 'muted small' }, t('health.week_note')),
  );
  const today = d.written_today_mb;
  const pct = today === null ? null : (today / d.write_budget_mb) * 100;
  box.append(
    h('h3', {}, t('health.writes')),
    h(
      'p',
      { id: 'write-budget', class: pct !== null && pct >= 100 ? 'warn' : '' },
      t('health.writes_today', { mb: num(today, '', 1), budget: d.write_budget_mb, pct: num(pct, '', 0) }),
    ),
    h(
      'div',
      {
        class: 'meter',
        role: 'meter',
        'aria-valuemin': 0,
        'aria-valuemax': 100,
        'aria-valuenow': Math.round(pct ?? 0),
        'aria-label': t('health.writes'),
      },
      meterFill(Math.min(100, pct ?? 0)),
    ),
    c.dayBars({
      labels: d.writes.map((w) => `${w.day.slice(8, 10)}-${w.day.slice(5, 7)}`),
      values: d.writes.map((w) => Math.round(w.mb ?? 0)),
      width,
      label: t('health.writes_days'),
      color: c.LAYER_COLORS.lan,
    }),
  );
}

function meterFill(pct) {
  const el = h('span', { class: 'meter-fill' });
  el.style.width = `${pct}%`;
  return el;
}
