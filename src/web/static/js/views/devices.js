import { api, optional } from '../api.js';
import { h, replace } from '../dom.js';
import { wib } from '../format.js';
import { label, t } from '../i18n.js';
import { live } from '../live.js';
import { reasonText } from '../reason.js';
import { drawn, loadCharts } from './chart-parts.js';
import { stateKey } from './overview-charts.js';

/**
 * Perangkat: one card per device from the live status; its details (state history,
 * telemetry, availability) from GET /api/v1/devices/{id} when the devices module provides
 * it, rendered generically so new fields show without a page change.
 */
export function devicesView(main) {
  const list = h('div', { id: 'device-list' });
  const strips = h('section', { class: 'card', id: 'device-strips' }, h('h2', {}, t('devices.week')));
  const usage = h('section', { class: 'card', id: 'usage' }, h('h2', {}, t('devices.usage')));
  replace(main, strips, usage, list);
  const details = new Map();

  const loadDetails = async (id) => {
    const d = await optional(`/api/v1/devices/${encodeURIComponent(id)}`).catch(() => null);
    details.set(id, d ?? {});
    render();
  };
  const render = () => {
    const devices = live.status?.devices ?? [];
    replace(
      list,
      devices.length === 0
        ? h('section', { class: 'card' }, h('p', { class: 'muted' }, t('overview.no_devices')))
        : devices.map((d) => deviceCard(d, details.get(d.id), () => loadDetails(d.id))),
    );
  };
  // The last 7 days by the box's clock (the phone's may be anywhere), summed on the box.
  Promise.all([loadCharts(), api('GET', '/api/v1/charts/devices?days=7').catch(() => null)]).then(
    ([c, d]) => {
      if (!main.isConnected) return;
      drawn(strips, () => drawStrips(c, strips, d));
      drawn(usage, () => drawUsage(c, usage, d));
    },
  );
  return {
    update(event) {
      if (event === 'status' || event === 'device.changed') render();
    },
  };
}

function deviceCard(d, detail, load) {
  return h(
    'section',
    { class: `card device s-${d.state}`, dataset: { device: d.id } },
    h('h2', {}, d.name, ' ', h('span', { class: `pill s-${d.state}` }, label('state', d.state))),
    h(
      'table',
      {},
      h('tr', {}, h('td', {}, t('devices.kind')), h('td', {}, d.kind)),
      h('tr', {}, h('td', {}, t('overview.since')), h('td', {}, wib(d.since))),
      h('tr', {}, h('td', {}, t('devices.reason')), h('td', {}, reasonText(d.reason) ?? '—')),
      h('tr', {}, h('td', {}, t('overview.heartbeat')), h('td', {}, wib(d.last_heartbeat))),
    ),
    detail === undefined
      ? h('button', { type: 'button', class: 'link', onclick: load }, t('devices.details'))
      : Object.keys(detail).length === 0
        ? h('p', { class: 'muted' }, t('app.not_available'))
        : generic(detail),
  );
}

/**
 * The devices module's detail (state changes, telemetry, availability per hour/day/month)
 * in a readable form; any other field is shown generically so new ones appear unchanged.
 */
function generic(obj) {
  const skip = new Set(['id', 'name', 'kind', 'state', 'since', 'reason', 'last_heartbeat']);
  return Object.entries(obj)
    .filter(([k, v]) => !skip.has(k) && v !== null && !(Array.isArray(v) && v.length === 0))
    .map(([k, v]) => h('div', { class: 'detail' }, h('h3', {}, label('devices', k)), detailValue(k, v)));
}

function detailValue(key, v) {
  if (key === 'availability' && v && typeof v === 'object' && Array.isArray(v.days)) {
    const pct = (r) => (r.pct === null ? '—' : `${r.pct.toFixed(1)} %`);
    return h(
      'table',
      { class: 'small' },
      h('tr', {}, h('th', {}, t('devices.period')), h('th', {}, t('devices.availability'))),
      v.days.slice(-7).map((r) => h('tr', {}, h('td', {}, wib(r.start).slice(0, 10)), h('td', {}, pct(r)))),
      (v.months ?? [])
        .slice(-3)
        .map((r) => h('tr', {}, h('td', {}, wib(r.start).slice(3, 10)), h('td', {}, pct(r)))),
    );
  }
  if (key === 'changes' && Array.isArray(v)) {
    return h(
      'ul',
      { class: 'changes' },
      v.map((c) =>
        h(
          'li',
          {},
          h('time', {}, wib(c.at)),
          ' ',
          h('span', { class: `pill s-${c.state}` }, label('state', c.state)),
          c.reason ? ` ${reasonText(c.reason)}` : '',
        ),
      ),
    );
  }
  return valueView(v);
}

function valueView(v) {
  if (Array.isArray(v)) {
    if (v.length === 0) return h('p', { class: 'muted' }, '—');
    if (typeof v[0] !== 'object') return h('p', {}, v.join(', '));
    const cols = Object.keys(v[0]);
    return h(
      'table',
      { class: 'small' },
      h(
        'tr',
        {},
        cols.map((c) => h('th', {}, label('col', c))),
      ),
      v.slice(-50).map((row) =>
        h(
          'tr',
          {},
          cols.map((c) => h('td', {}, cell(c, row[c]))),
        ),
      ),
    );
  }
  if (v && typeof v === 'object') {
    return h(
      'table',
      { class: 'small' },
      Object.entries(v).map(([k, x]) => h('tr', {}, h('td', {}, k), h('td', {}, cell(k, x)))),
    );
  }
  return h('p', {}, String(v ?? '—'));
}

function cell(key, v) {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string' && /(^|_)(at|since|start|end|time)$/.test(key)) return wib(v);
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function drawStrips(c, box, d) {
  replace(box, h('h2', {}, t('devices.week')));
  if (!d || d.devices.length === 0) {
    box.append(h('p', { class: 'muted' }, d ? t('overview.no_devices') : t('app.not_available')));
    return;
  }
  const from = Date.parse(d.from);
  const to = Date.parse(d.to);
  const width = c.widthOf(box) - 24;
  d.devices.forEach((dev, i) => {
    const segments = dev.segments.map((g) => ({
      start: Date.parse(g.start),
      end: Date.parse(g.end),
      state: g.state,
      title: `${label('state', g.state)}: ${wib(g.start)} – ${wib(g.end)}`,
    }));
    box.append(
      h(
        'div',
        { class: 'strip-row', dataset: { device: dev.id } },
        h('span', { class: 'strip-name' }, dev.name),
        c.stateStrip({
          from,
          to,
          segments,
          width,
          axis: i === d.devices.length - 1,
          label: `${dev.name}: ${t('devices.week')}`,
        }),
      ),
    );
  });
  box.append(stateKey(c, ['online', 'degraded', 'offline', 'unknown']));
}

function drawUsage(c, box, d) {
  replace(box, h('h2', {}, t('devices.usage')));
  if (!d) {
    box.append(h('p', { class: 'muted' }, t('app.not_available')));
    return;
  }
  if (d.usage.length === 0) {
    box.append(h('p', { class: 'muted' }, t('devices.no_usage')));
    return;
  }
  const labels = d.days.map((day) => `${day.slice(8, 10)}-${day.slice(5, 7)}`);
  const width = Math.min(c.widthOf(box) - 24, 420);
  box.append(
    h(
      'div',
      { class: 'bars' },
      d.usage.map((u) =>
        h(
          'figure',
          { class: 'usage-chart', dataset: { service: u.service } },
          h(
            'figcaption',
            {},
            `${u.service} · ${t('devices.usage_total', { n: u.counts.reduce((a, b) => a + b, 0) })}`,
          ),
          c.dayBars({
            labels,
            values: u.counts,
            width,
            label: `${u.service}: ${t('devices.usage')}`,
            color: c.LAYER_COLORS.lan,
          }),
        ),
      ),
    ),
  );
}
