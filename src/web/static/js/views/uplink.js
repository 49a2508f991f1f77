import { api, optional } from '../api.js';
import { h, replace } from '../dom.js';
import { duration, num, wib } from '../format.js';
import { label, t } from '../i18n.js';
import { drawn, legend, loadCharts } from './chart-parts.js';

const RANGES = [
  ['24h', 'uplink.h24'],
  ['7d', 'uplink.d7'],
  ['30d', 'uplink.d30'],
];

/**
 * Uplink: loss and latency per layer on one time axis with the outages shaded in their fault
 * layer's colour, availability per day, down minutes per weekday × hour, throughput results,
 * then the monthly uptime and the outage ledger. The charts chunk loads when this tab opens.
 */
export function uplinkView(main) {
  let range = '24h';
  let disposed = false;
  const picker = h('div', { class: 'range' });
  const timeline = h('section', { class: 'card', id: 'charts' }, t('app.loading'));
  const calendar = h('section', { class: 'card', id: 'calendar' });
  const heat = h('section', { class: 'card', id: 'heatmap' });
  const throughput = h('section', { class: 'card', id: 'throughput' });
  const uptime = h('section', { class: 'card', id: 'uptime' });
  const outages = h('section', { class: 'card', id: 'outages' });
  replace(main, picker, timeline, calendar, heat, throughput, uptime, outages);

  const drawPicker = () =>
    replace(
      picker,
      h('span', {}, `${t('uplink.range')}: `),
      RANGES.map(([r, key]) =>
        h(
          'button',
          { type: 'button', class: r === range ? 'on' : '', 'data-range': r, onclick: () => load(r) },
          t(key),
        ),
      ),
    );

  async function load(r) {
    range = r;
    drawPicker();
    const [c, chart] = await Promise.all([
      loadCharts(),
      api('GET', `/api/v1/charts/link?range=${r}`).catch(() => null),
    ]);
    if (disposed || range !== r) return;
    drawn(timeline, () => drawTimeline(c, timeline, chart));
    drawn(throughput, () => drawThroughput(c, throughput, chart));
  }

  drawPicker();
  load('24h');
  Promise.all([loadCharts(), api('GET', '/api/v1/charts/link-patterns').catch(() => null)]).then(([c, p]) => {
    if (disposed) return;
    drawn(calendar, () => drawCalendar(c, calendar, p));
    drawn(heat, () => drawHeat(c, heat, p));
  });
  optional('/api/v1/outages')
    .catch(() => null)
    .then((ledger) => {
      if (disposed) return;
      renderUptime(uptime, ledger?.uptime_30d ?? null);
      renderOutages(outages, ledger?.outages ?? null);
    });
  return {
    dispose() {
      disposed = true;
    },
  };
}

function drawTimeline(c, box, d) {
  if (!d || d.layers.length === 0) {
    replace(box, h('h2', {}, t('uplink.loss_chart')), h('p', { class: 'muted' }, t('uplink.no_history')));
    return;
  }
  replace(box);
  const width = c.widthOf(box) - 24;
  const from = Date.parse(d.from);
  const to = Date.parse(d.to);
  const common = { from, to, t: d.t, bands: d.outages, unsynced: d.unsynced, width };
  const make = (field) =>
    d.layers.map((l) => ({ key: l.layer, color: c.LAYER_COLORS[l.layer] ?? '#333', values: l[field] }));
  const last = (values) => [...values].reverse().find((v) => v !== null) ?? null;
  box.append(
    h('h2', {}, t('uplink.loss_chart')),
    h(
      'div',
      { class: 'chart', id: 'loss-chart' },
      c.timeChart({
        ...common,
        series: make('loss_pct'),
        unit: '%',
        yMax: 100,
        label: t('uplink.loss_chart'),
      }),
    ),
    h('h2', {}, t('uplink.rtt_chart')),
    h(
      'div',
      { class: 'chart', id: 'rtt-chart' },
      c.timeChart({ ...common, series: make('rtt_ms'), unit: ' ms', label: t('uplink.rtt_chart') }),
    ),
    legend(
      'layer-legend',
      d.layers.map((l) => ({
        key: l.layer,
        color: c.LAYER_COLORS[l.layer],
        text: label('layer', l.layer),
        value: `${num(last(l.loss_pct), ' %', 1)} · ${num(last(l.rtt_ms), ' ms', 1)}`,
      })),
    ),
    h(
      'p',
      { class: 'muted small' },
      h('span', { class: 'key-band' }),
      ` ${t('uplink.band_key')} `,
      h('span', { class: 'key-hatch' }),
      ` ${t('uplink.unsynced_key')}`,
      d.unsynced.length > 0 ? ` (${d.unsynced.length})` : '',
    ),
  );
}

function drawThroughput(c, box, d) {
  const list = d?.throughput ?? [];
  const ok = list.filter((r) => r.error === null);
  replace(box, h('h2', {}, t('uplink.throughput')));
  if (list.length === 0) {
    box.append(h('p', { class: 'muted' }, t('uplink.no_throughput')));
    return;
  }
  const width = c.widthOf(box) - 24;
  box.append(
    h(
      'div',
      { class: 'chart', id: 'throughput-chart' },
      c.timeChart({
        from: Date.parse(d.from),
        to: Date.parse(d.to),
        width,
        height: 140,
        unit: '',
        label: t('uplink.throughput'),
        series: [
          {
            key: 'mbps',
            color: c.LAYER_COLORS.lan,
            dots: true,
            x: ok.map((r) => Date.parse(r.at)),
            values: ok.map((r) => r.mbps),
          },
        ],
      }),
    ),
    h(
      'p',
      { class: 'small', id: 'throughput-last' },
      `${t('uplink.throughput_last')}: `,
      h(
        'strong',
        {},
        list[list.length - 1].error ? t('uplink.throughput_failed') : `${list[list.length - 1].mbps} Mbit/s`,
      ),
      ` (${wib(list[list.length - 1].at)})`,
      list.length > ok.length ? ` · ${t('uplink.throughput_errors', { n: list.length - ok.length })}` : '',
    ),
  );
}

function drawCalendar(c, box, p) {
  replace(box, h('h2', {}, t('uplink.calendar')));
  if (!p) {
    box.append(h('p', { class: 'muted' }, t('app.not_available')));
    return;
  }
  const dayLabel = (d) =>
    `${d.day}: ${d.up_pct === null ? t('uplink.no_data') : `${d.up_pct.toFixed(2)} %`}${d.down_min > 0 ? ` · ${t('uplink.down_min', { n: d.down_min })}` : ''}`;
  const worst = p.calendar
    .filter((d) => d.up_pct !== null && d.up_pct < 100)
    .sort((a, b) => a.up_pct - b.up_pct)
    .slice(0, 3);
  box.append(
    h(
      'div',
      { class: 'chart' },
      c.calendarStrip({
        days: p.calendar,
        width: c.widthOf(box) - 24,
        label: t('uplink.calendar'),
        dayLabel,
      }),
    ),
    h(
      'p',
      { class: 'small' },
      h('span', { class: 'swatch p-good' }),
      ' ≥ 99,5 % ',
      h('span', { class: 'swatch p-fair' }),
      ' 95–99,5 % ',
      h('span', { class: 'swatch p-poor' }),
      ' < 95 % ',
      h('span', { class: 'swatch p-none' }),
      ` ${t('uplink.no_data')}`,
    ),
    worst.length > 0 &&
      h(
        'p',
        { class: 'small', id: 'worst-days' },
        `${t('uplink.worst_days')}: `,
        worst.map(dayLabel).join('; '),
      ),
  );
}

function drawHeat(c, box, p) {
  replace(box, h('h2', {}, t('uplink.heatmap')));
  if (!p) {
    box.append(h('p', { class: 'muted' }, t('app.not_available')));
    return;
  }
  const weekdays = t('uplink.weekdays').split(',');
  const total = p.heat.down_min.flat().reduce((a, b) => a + b, 0);
  box.append(
    h('p', { class: 'muted small' }, t('uplink.heatmap_note', { days: p.heat.days })),
    h(
      'div',
      { class: 'chart' },
      c.heatMap({
        down: p.heat.down_min,
        width: c.widthOf(box) - 24,
        label: t('uplink.heatmap'),
        weekdays,
        cellLabel: (wd, hr, m) =>
          `${weekdays[wd]} ${String(hr).padStart(2, '0')}:00 WIB: ${t('uplink.down_min', { n: m })}`,
      }),
    ),
    h(
      'p',
      { class: 'small' },
      total === 0 ? t('uplink.heatmap_none') : t('uplink.heatmap_total', { n: total }),
    ),
  );
}

function renderUptime(el, uptime) {
  const entries = uptime ? Object.entries(uptime).filter(([k]) => !k.startsWith('probe:')) : [];
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
              h('td', {}, label('layer', k.replace(/^layer:/, ''))),
              h('td', {}, typeof v.up_pct === 'number' ? num(v.up_pct, ' %', 2) : '—'),
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
                h(
                  'td',
                  {},
                  o.fault_layer
                    ? h('span', { class: `layer-tag l-${o.fault_layer}` }, label('layer', o.fault_layer))
                    : '—',
                ),
              ),
            ),
          ),
  );
}
