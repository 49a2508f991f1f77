import { ApiError, api } from '../../../web/static/js/api.js';
import { h, replace } from '../../../web/static/js/dom.js';
import { duration, num, wib } from './format.js';
import { label, t } from './i18n.js';
import { drawIncidents } from './incidents.js';
import { stateText } from './states.js';

const POLL_MS = 15_000;

/** One village: state, link history with outages shaded, outages, devices, box health. */
export function villageView(main, code) {
  let hours = 24;
  let timer = null;
  let stopped = false;
  const head = h('div', { id: 'village-head' });
  const range = h('div', { class: 'range' });
  const chartBox = h('div', { class: 'chart', id: 'history' });
  const outages = h('div', { id: 'outages' });
  const incidents = h('div', { id: 'incidents' });
  const devices = h('div', { id: 'devices' });
  const box = h('div', { id: 'box' });
  replace(
    main,
    h('p', {}, h('a', { href: '#/' }, t('village.back'))),
    head,
    h('section', { class: 'card' }, h('h2', {}, t('village.history')), range, chartBox),
    h(
      'div',
      { class: 'grid2' },
      h('section', { class: 'card' }, h('h2', {}, t('village.box')), box),
      h('section', { class: 'card' }, h('h2', {}, t('village.devices')), devices),
    ),
    h('section', { class: 'card' }, h('h2', {}, t('village.outages')), outages),
    h('section', { class: 'card' }, h('h2', {}, t('incidents.title')), incidents),
  );

  const drawRange = () =>
    replace(
      range,
      [24, 168, 720].map((n) =>
        h(
          'button',
          {
            type: 'button',
            class: n === hours ? 'on' : undefined,
            onclick: () => {
              hours = n;
              drawRange();
              load();
            },
          },
          t(`range.${n}`),
        ),
      ),
    );
  drawRange();

  async function load() {
    try {
      const [v, hist, out, inc] = await Promise.all([
        api('GET', `/api/v1/villages/${code}`),
        api('GET', `/api/v1/villages/${code}/history?hours=${hours}`),
        api('GET', `/api/v1/villages/${code}/outages`),
        api('GET', `/api/v1/incidents?village=${code}`),
      ]);
      drawHead(head, v);
      drawBox(box, v);
      drawDevices(devices, v.devices);
      drawOutages(outages, out.outages);
      drawIncidents(incidents, code, inc);
      await drawChart(chartBox, hist, out.outages);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        replace(head, h('p', { class: 'error' }, t('village.not_found', { code })));
        return;
      }
      if (!(err instanceof ApiError && err.status === 401)) document.body.classList.add('is-stale');
    }
    if (!stopped) {
      clearTimeout(timer);
      timer = setTimeout(load, POLL_MS);
    }
  }
  load();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

function row(k, v) {
  return h('tr', {}, h('th', { scope: 'row' }, k), h('td', {}, v));
}

function drawHead(el, v) {
  replace(
    el,
    h(
      'div',
      { class: 'vhead' },
      h(
        'div',
        {},
        h('h1', {}, v.name ?? v.code),
        h('p', { class: 'muted' }, [v.kecamatan, v.code, v.isp].filter(Boolean).join(' · ')),
      ),
      h('span', { class: `badge st-${v.state}`, id: 'village-state' }, stateText(v)),
    ),
    v.revoked &&
      h(
        'p',
        { class: 'revoked-note', id: 'village-revoked' },
        t('village.revoked', { time: wib(v.revoked) }),
      ),
    v.outage &&
      h(
        'p',
        { class: 'outage-now' },
        t('village.outage_now', { time: wib(v.outage.start), layer: label('layer', v.outage.fault_layer) }),
      ),
  );
}

function drawBox(el, v) {
  const b = v.box;
  const rows = [
    row(t('village.version'), v.version ?? '—'),
    row(t('village.last_seen'), wib(v.last_seen)),
    row(
      t('village.clock'),
      v.clock_synced === null ? '—' : t(v.clock_synced ? 'village.clock_synced' : 'village.clock_unsynced'),
    ),
    row(t('village.outbox'), v.outbox_depth ?? '—'),
  ];
  if (b)
    rows.push(
      row(t('village.temperature'), num(b.system.temperature_c, ' °C', 1)),
      row(t('village.throttled'), b.system.throttled === null ? '—' : t(b.system.throttled ? 'yes' : 'no')),
      row(t('village.disk'), num(b.system.disk_used_pct, ' %')),
      row(t('village.memory'), num(b.system.memory_used_pct, ' %')),
      row(t('village.health_at'), wib(b.at)),
    );
  replace(
    el,
    h('table', { class: 'kv' }, h('tbody', {}, rows)),
    !b && h('p', { class: 'muted' }, t('village.box_empty')),
  );
}

function drawDevices(el, list) {
  if (list.length === 0) return replace(el, h('p', { class: 'muted' }, t('village.devices_empty')));
  replace(
    el,
    h(
      'table',
      {},
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', {}, t('village.device')),
          h('th', {}, t('village.state')),
          h('th', {}, t('village.reason')),
        ),
      ),
      h(
        'tbody',
        {},
        list.map((d) =>
          h(
            'tr',
            {},
            h('td', {}, d.name ?? d.id, ' ', h('small', {}, d.kind ?? '')),
            h(
              'td',
              {},
              h('span', { class: `badge small st-${d.state === 'offline' ? 'down' : d.state}` }, d.state),
            ),
            h('td', {}, d.reason ?? '—'),
          ),
        ),
      ),
    ),
  );
}

function drawOutages(el, list) {
  if (list.length === 0) return replace(el, h('p', { class: 'muted' }, t('village.outages_empty')));
  replace(
    el,
    h(
      'table',
      { class: 'outages' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['village.start', 'village.end', 'village.duration', 'village.layer'].map((k) => h('th', {}, t(k))),
        ),
      ),
      h(
        'tbody',
        {},
        list.map((o) =>
          h(
            'tr',
            { class: o.interrupted ? 'interrupted' : o.ongoing ? 'ongoing' : undefined },
            h('td', {}, wib(o.start)),
            h(
              'td',
              {},
              o.ongoing ? t('village.ongoing') : wib(o.end),
              o.interrupted && h('span', { class: 'mark' }, ` — ${t('village.interrupted')}`),
            ),
            h(
              'td',
              {},
              o.ongoing ? duration((Date.now() - Date.parse(o.start)) / 1000) : duration(o.duration_s),
            ),
            h('td', {}, label('layer', o.fault_layer)),
          ),
        ),
      ),
    ),
  );
}

/** The technician page's SVG time chart (its lazily loaded chunk): share of samples up, outages shaded. */
async function drawChart(el, hist, outages) {
  if (hist.points.length === 0) {
    replace(el, h('p', { class: 'muted' }, t('village.history_empty')));
    return;
  }
  const c = await import('../../../web/static/js/charts/index.js');
  const from = Date.parse(hist.from);
  const to = Date.parse(hist.to);
  const bucket = hist.bucket_s * 1000;
  const width = Math.max(280, Math.min(el.clientWidth || 600, 1100));
  replace(
    el,
    c.timeChart({
      from,
      to,
      width,
      height: 190,
      unit: '%',
      yMax: 100,
      label: t('village.up_pct'),
      bands: outages.map((o) => ({ start: o.start, end: o.end ?? hist.to, fault_layer: o.fault_layer })),
      series: [
        {
          key: 'up',
          color: c.STATE_COLORS.up,
          values: hist.points.map((p) => p.up_pct),
          x: hist.points.map((p) => Date.parse(p.t) + bucket / 2),
        },
      ],
    }),
    h('p', { class: 'muted small' }, h('span', { class: 'key-band' }), ` ${t('village.band_key')}`),
  );
}
