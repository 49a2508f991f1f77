import { api } from '../api.js';
import { h, replace } from '../dom.js';
import { bytes, duration, num, wib } from '../format.js';
import { label, t } from '../i18n.js';
import { live } from '../live.js';
import { reasonText } from '../reason.js';
import { drawn } from './chart-parts.js';
import { drawHealthWeek, drawLayerStrips } from './overview-charts.js';

/** Ringkasan: what failed, since when, what to check next; then devices, queue, cache, box. */
export function overviewView(main) {
  const verdict = h('section', { class: 'card verdict', id: 'verdict' });
  const layers = h('section', { class: 'card' });
  const devices = h('section', { class: 'card' });
  const grid = h('div', { class: 'grid' });
  const alerts = h(
    'section',
    { class: 'card' },
    h('h2', {}, t('overview.alerts')),
    h('p', {}, t('app.loading')),
  );
  const strips = h('section', { class: 'card', id: 'layer-strips' }, h('h2', {}, t('overview.last24h')));
  const week = h('section', { class: 'card', id: 'health-week' }, h('h2', {}, t('health.week')));
  replace(main, verdict, strips, devices, layers, grid, week, alerts);
  drawn(strips, () => drawLayerStrips(strips));
  drawn(week, () => drawHealthWeek(week));
  const drain = { depth: null, at: 0, rate: null };
  // The outage timer ticks every second on the page; the start comes from the daemon.
  const ticker = setInterval(() => renderVerdict(verdict), 1000);

  const loadAlerts = () =>
    api('GET', '/api/v1/alerts?limit=10')
      .then((r) => renderAlerts(alerts, r.alerts))
      .catch(() => null);
  loadAlerts();

  return {
    update(event) {
      const s = live.status;
      if (!s) return;
      renderVerdict(verdict);
      renderLayers(layers, s.link);
      renderDevices(devices, s.devices);
      trackDrain(drain, s.outbox);
      replace(grid, outboxCard(s.outbox, drain), cacheCard(s.cache), healthCard(s.system, s.clock));
      if (event === 'alert' || event === 'outage.ended') loadAlerts();
      if (event === 'outage.ended' || event === 'link.changed') drawLayerStrips(strips);
    },
    dispose() {
      clearInterval(ticker);
    },
  };
}

function renderVerdict(el) {
  const link = live.status?.link;
  if (!link) return;
  const v = link.verdict ?? 'unknown';
  const layer = link.fault_layer;
  const advice = v === 'up' ? t('advice.up') : layer ? t(`advice.${layer}`) : t('advice.unknown');
  el.className = `card verdict v-${v}`;
  const outage = link.outage;
  replace(
    el,
    h('h1', { id: 'verdict-text' }, t(`verdict.${v}`)),
    layer &&
      h(
        'p',
        { class: 'fault', id: 'fault-layer', dataset: { layer } },
        `${t('overview.fault_layer')}: `,
        h('strong', {}, label('layer', layer)),
      ),
    h('p', { class: 'advice', id: 'advice' }, advice),
    outage &&
      h(
        'p',
        { class: 'outage', id: 'outage' },
        `${t('overview.outage')} `,
        h('strong', {}, duration((live.now() - Date.parse(outage.start)) / 1000)),
        ` (${t('overview.outage_since', { time: wib(outage.start) })})`,
      ),
    !outage && link.since && h('p', { class: 'muted' }, `${t('overview.since')} ${wib(link.since)}`),
  );
}

function renderLayers(el, link) {
  // The daemon sends the layers lowest first (status/types.ts LAYERS): keep its order.
  const names = Object.keys(link.layers);
  replace(
    el,
    h('h2', {}, t('overview.layers')),
    names.length === 0
      ? h('p', { class: 'muted' }, t('advice.unknown'))
      : h(
          'table',
          { class: 'layers' },
          h(
            'tr',
            {},
            h('th', {}, ''),
            h('th', {}, ''),
            h('th', {}, t('overview.loss')),
            h('th', {}, t('overview.rtt')),
          ),
          names.map((name) => {
            const l = link.layers[name];
            return h(
              'tr',
              { class: `s-${l.state}` },
              h('td', {}, label('layer', name)),
              h('td', {}, h('span', { class: `pill s-${l.state}` }, label('state', l.state))),
              h('td', {}, num(l.loss_pct, ' %')),
              h('td', {}, num(l.rtt_ms, ' ms', 1)),
            );
          }),
        ),
  );
}

function renderDevices(el, devices) {
  replace(
    el,
    h('h2', {}, t('overview.devices')),
    devices.length === 0
      ? h('p', { class: 'muted' }, t('overview.no_devices'))
      : h(
          'div',
          { class: 'tiles' },
          devices.map((d) =>
            h(
              'a',
              { class: `tile s-${d.state}`, href: `#perangkat`, dataset: { device: d.id, state: d.state } },
              h('strong', {}, d.name),
              h('span', { class: 'pill' }, label('state', d.state)),
              d.reason && h('small', {}, reasonText(d.reason)),
              h('small', {}, `${t('overview.heartbeat')}: ${wib(d.last_heartbeat, false)}`),
            ),
          ),
        ),
  );
}

function trackDrain(drain, outbox) {
  const now = Date.now();
  if (drain.depth !== null && outbox.depth < drain.depth && now > drain.at) {
    drain.rate = ((drain.depth - outbox.depth) * 1000) / (now - drain.at);
  } else if (outbox.depth === 0 || (drain.depth !== null && outbox.depth >= drain.depth)) {
    drain.rate = null;
  }
  drain.depth = outbox.depth;
  drain.at = now;
}

function outboxCard(o, drain) {
  const dropped = Object.entries(o.dropped ?? {}).filter(([, n]) => n > 0);
  return h(
    'section',
    { class: 'card', id: 'outbox' },
    h('h2', {}, t('overview.outbox')),
    h(
      'p',
      {},
      o.depth === 0
        ? t('overview.outbox_empty')
        : t('overview.outbox_depth', { n: o.depth, size: bytes(o.bytes) }),
    ),
    o.oldest_age_s !== null &&
      o.depth > 0 &&
      h('p', { class: 'muted' }, t('overview.outbox_oldest', { age: duration(o.oldest_age_s) })),
    drain.rate &&
      h(
        'p',
        {},
        t('overview.outbox_drain', { rate: drain.rate.toFixed(0), eta: duration(o.depth / drain.rate) }),
      ),
    dropped.length > 0 &&
      h(
        'p',
        { class: 'warn' },
        t('overview.outbox_dropped', { list: dropped.map(([k, n]) => `${k} ${n}`).join(', ') }),
      ),
    h(
      'p',
      { class: o.connected ? 'ok' : 'warn' },
      t(o.connected ? 'overview.broker_on' : 'overview.broker_off'),
    ),
  );
}

function cacheCard(c) {
  const now = live.now();
  return h(
    'section',
    { class: 'card', id: 'cache' },
    h('h2', {}, t('overview.cache')),
    h('p', {}, t('overview.cache_entries', { n: c.entries, size: bytes(c.bytes) })),
    Object.entries(c.upstreams ?? {}).map(([name, u]) =>
      h(
        'p',
        { class: 'muted' },
        u.last_refresh
          ? t('overview.cache_refresh', { name, age: duration((now - Date.parse(u.last_refresh)) / 1000) })
          : t('overview.cache_never', { name }),
      ),
    ),
  );
}

function healthCard(s, clock) {
  const row = (key, value, bad) =>
    h('tr', { class: bad ? 'bad' : '' }, h('td', {}, t(key)), h('td', {}, value));
  const yesNo = (v) => (v === null || v === undefined ? '—' : t(v ? 'overview.yes' : 'overview.no'));
  return h(
    'section',
    { class: 'card', id: 'health' },
    h('h2', {}, t('overview.health')),
    h(
      'table',
      {},
      row('overview.temperature', num(s.temperature_c, ' °C', 1), s.temperature_c >= 75),
      row('overview.throttled', yesNo(s.throttled), s.throttled === true),
      row('overview.memory', num(s.memory_used_pct, ' %'), s.memory_used_pct >= 90),
      row('overview.disk', num(s.disk_used_pct, ' %'), s.disk_used_pct >= 90),
      row('overview.cpu', num(s.cpu_load, '', 2), false),
    ),
    h(
      'p',
      { class: clock.synced ? 'ok' : 'warn', id: 'clock' },
      t(clock.synced ? 'overview.clock_synced' : 'overview.clock_unsynced'),
    ),
  );
}

function renderAlerts(el, list) {
  replace(
    el,
    h('h2', {}, t('overview.alerts')),
    list.length === 0
      ? h('p', { class: 'muted' }, t('overview.no_alerts'))
      : h(
          'ul',
          { class: 'alerts' },
          list.map((a) => h('li', { class: `sev-${a.severity}` }, h('time', {}, wib(a.at)), ' ', a.message)),
        ),
  );
}
