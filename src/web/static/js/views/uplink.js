import { optional } from '../api.js';
import { h, replace } from '../dom.js';
import { duration, num, wib } from '../format.js';
import { normaliseHistory, normaliseOutages, normaliseUptime } from '../history.js';
import { label, t } from '../i18n.js';

const RANGES = [
  [24, 'uplink.h24'],
  [168, 'uplink.d7'],
  [720, 'uplink.d30'],
];
const COLORS = { lan: '#1565c0', isp: '#6a1b9a', dns: '#00838f', internet: '#2e7d32', regency: '#ef6c00' };

/** Uplink: loss and latency per layer (uPlot, loaded only when this tab opens), uptime, outages. */
export function uplinkView(main) {
  let hours = 24;
  let charts = [];
  const picker = h('div', { class: 'range' });
  const chartsBox = h('section', { class: 'card', id: 'charts' }, t('app.loading'));
  const uptime = h('section', { class: 'card', id: 'uptime' });
  const outages = h('section', { class: 'card', id: 'outages' });
  replace(main, picker, chartsBox, uptime, outages);

  const drawPicker = () =>
    replace(
      picker,
      h('span', {}, `${t('uplink.range')}: `),
      RANGES.map(([n, key]) =>
        h('button', { type: 'button', class: n === hours ? 'on' : '', onclick: () => load(n) }, t(key)),
      ),
    );

  async function load(n) {
    hours = n;
    drawPicker();
    for (const c of charts) c.destroy();
    charts = [];
    const [history, ledger] = await Promise.all([
      optional(`/api/v1/link/history?hours=${hours}`).catch(() => null),
      optional('/api/v1/outages').catch(() => null),
    ]);
    const data = normaliseHistory(history);
    if (!data || data.t.length === 0) {
      replace(chartsBox, h('p', { class: 'muted' }, t('uplink.no_history')));
    } else {
      replace(chartsBox);
      charts = await drawCharts(chartsBox, data);
    }
    renderUptime(uptime, normaliseUptime(ledger) ?? normaliseUptime(history));
    renderOutages(outages, normaliseOutages(ledger));
  }
  load(24);
  return {
    dispose() {
      for (const c of charts) c.destroy();
    },
  };
}

async function drawCharts(box, data) {
  const { default: uPlot } = await import('uplot');
  const width = Math.max(280, Math.min(box.clientWidth - 24, 1100));
  const layers = Object.keys(data.series);
  const make = (titleKey, field, unit) => {
    const el = h('div', { class: 'chart' });
    box.append(h('h2', {}, t(titleKey)), el);
    return new uPlot(
      {
        width,
        height: 180,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Asia/Jakarta'),
        series: [
          { label: t('uplink.time'), value: (_u, v) => (v === null ? '—' : wib(v * 1000)) },
          ...layers.map((l) => ({
            label: label('layer', l),
            stroke: COLORS[l] ?? '#555',
            width: 1.5,
            spanGaps: false,
            value: (_u, v) => (v === null ? '—' : `${v.toFixed(1)} ${unit}`),
          })),
        ],
        // 24-hour WIB tick labels; the date is added at midnight and on the first tick.
        axes: [{ values: (_u, splits) => splits.map((s, i) => tick(s, i)) }, { size: 50 }],
        legend: { live: true },
      },
      [data.t, ...layers.map((l) => data.series[l][field])],
      el,
    );
  };
  return [make('uplink.loss_chart', 'loss', '%'), make('uplink.rtt_chart', 'rtt', 'ms')];
}

function tick(sec, i) {
  const text = wib(sec * 1000);
  const [date, time] = text.split(' ');
  const hm = time.slice(0, 5);
  return i === 0 || hm === '00:00' ? `${hm}\n${date.slice(0, 5)}` : hm;
}

function renderUptime(el, uptime) {
  const entries = uptime && typeof uptime === 'object' ? Object.entries(uptime) : [];
  replace(
    el,
    h('h2', {}, t('uplink.uptime')),
    entries.length === 0
      ? h('p', { class: 'muted' }, t('app.not_available'))
      : h(
          'table',
          {},
          entries.map(([k, v]) =>
            h(
              'tr',
              {},
              h('td', {}, label('layer', k)),
              h('td', {}, typeof v === 'number' ? num(v, ' %', 2) : '—'),
            ),
          ),
        ),
  );
}

function renderOutages(el, list) {
  replace(
    el,
    h('h2', {}, t('uplink.outages')),
    list === null
      ? h('p', { class: 'muted' }, t('app.not_available'))
      : list.length === 0
        ? h('p', { class: 'muted' }, t('uplink.no_outages'))
        : h(
            'table',
            { class: 'ledger' },
            h(
              'tr',
              {},
              ['uplink.start', 'uplink.end', 'uplink.duration', 'uplink.layer'].map((k) => h('th', {}, t(k))),
            ),
            list.map((o) =>
              h(
                'tr',
                {},
                h('td', {}, wib(o.start)),
                h('td', {}, o.end ? wib(o.end) : '…'),
                h('td', {}, duration(o.duration_s)),
                h('td', {}, o.fault_layer ? label('layer', o.fault_layer) : '—'),
              ),
            ),
          ),
  );
}
