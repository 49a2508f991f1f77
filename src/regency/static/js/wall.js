import { api } from '../../../web/static/js/api.js';
import { h, replace } from '../../../web/static/js/dom.js';
import { wib, wibShort } from './format.js';
import { t } from './i18n.js';
import { STATES, stateText } from './states.js';

const POLL_MS = 10_000;
/** Messages waiting in a box's outbox above which the wall calls it a backlog. */
export const BACKLOG_AT = 100;

const FILTERS = {
  all: () => true,
  down: (v) => v.state === 'down',
  degraded: (v) => v.state === 'degraded',
  silent: (v) => v.state === 'silent',
  clock: (v) => v.clock_synced === false,
  backlog: (v) => (v.outbox_depth ?? 0) >= BACKLOG_AT,
  revoked: (v) => v.revoked !== null && v.revoked !== undefined,
};
let filter = 'all';
let query = '';

/** The wall: every village grouped by kecamatan, a tile each, refreshed every 10 s. */
export function wallView(main) {
  let fleet = null;
  let timer = null;
  let stopped = false;
  let lastOk = null;
  const summary = h('div', { class: 'summary', id: 'summary' });
  const filters = h('div', { class: 'filters', role: 'group' });
  const search = h('input', {
    type: 'search',
    id: 'search',
    placeholder: t('filter.search'),
    'aria-label': t('filter.search'),
    value: query,
  });
  search.addEventListener('input', () => {
    query = search.value.trim().toLowerCase();
    draw();
  });
  const status = h('p', { class: 'status-line', id: 'updated' });
  const wall = h('div', { class: 'wall', id: 'wall' });
  replace(main, summary, h('div', { class: 'toolbar' }, filters, search), status, wall);

  function draw() {
    if (!fleet) return;
    const counts = Object.fromEntries(STATES.map((s) => [s, 0]));
    for (const v of fleet) counts[v.state] = (counts[v.state] ?? 0) + 1;
    replace(
      summary,
      STATES.map((s) => h('span', { class: `count st-${s}` }, h('b', {}, counts[s]), ' ', t(`state.${s}`))),
    );
    replace(
      filters,
      Object.keys(FILTERS).map((f) =>
        h(
          'button',
          {
            type: 'button',
            class: f === filter ? 'on' : undefined,
            'aria-pressed': f === filter ? 'true' : 'false',
            dataset: { filter: f },
            onclick: () => {
              filter = f;
              draw();
            },
          },
          t(`filter.${f}`),
          f === 'all' ? '' : ` (${fleet.filter(FILTERS[f]).length})`,
        ),
      ),
    );
    const shown = fleet.filter(
      (v) =>
        FILTERS[filter](v) &&
        (!query || `${v.name ?? ''} ${v.kecamatan ?? ''} ${v.code}`.toLowerCase().includes(query)),
    );
    const groups = new Map();
    for (const v of shown) {
      const k = v.kecamatan ?? t('wall.unknown_village');
      if (!groups.has(k)) groups.set(k, []);
      groups.get(k).push(v);
    }
    const now = Date.now();
    replace(
      wall,
      shown.length === 0 && h('p', { class: 'muted' }, t('wall.none')),
      [...groups.entries()].map(([kec, list]) =>
        h(
          'section',
          { class: 'kec' },
          h('h2', {}, kec, ' ', h('small', {}, String(list.length))),
          h(
            'div',
            { class: 'tiles' },
            list.map((v) => tile(v, now)),
          ),
        ),
      ),
    );
    replace(
      status,
      t('wall.count', { shown: shown.length, total: fleet.length }),
      ' · ',
      t('app.updated', { time: wibShort(lastOk ?? now) }),
    );
  }

  async function poll() {
    try {
      fleet = await api('GET', '/api/v1/fleet');
      lastOk = Date.now();
      document.body.classList.remove('is-stale');
      draw();
    } catch (err) {
      if (err.status === 401) return;
      document.body.classList.add('is-stale');
      status.textContent = t('app.stale', { time: wibShort(lastOk ?? Date.now()) });
    }
    if (!stopped) timer = setTimeout(poll, document.hidden ? POLL_MS * 3 : POLL_MS);
  }
  poll();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

function tile(v, now) {
  const since = v.state !== 'online' && v.state !== 'unknown' && (v.outage?.start ?? v.since ?? v.last_seen);
  const flags = [
    FILTERS.revoked(v) && h('span', { class: 'flag revoked', title: wib(v.revoked) }, t('wall.revoked')),
    v.clock_synced === false && h('span', { class: 'flag', title: t('filter.clock') }, t('wall.clock')),
    (v.outbox_depth ?? 0) >= BACKLOG_AT &&
      h('span', { class: 'flag' }, t('wall.backlog', { n: v.outbox_depth })),
  ].filter(Boolean);
  return h(
    'a',
    {
      class: `tile st-${v.state}${FILTERS.revoked(v) ? ' is-revoked' : ''}`,
      href: `#/desa/${v.code}`,
      dataset: { code: v.code, state: v.state, ...(FILTERS.revoked(v) ? { revoked: 'true' } : {}) },
      title: `${v.name ?? v.code} (${v.code})`,
    },
    h('span', { class: 'tname' }, v.name ?? v.code),
    h('span', { class: 'tstate' }, stateText(v)),
    since && h('span', { class: 'tsince' }, t('wall.since', { time: wibShort(since, now) })),
    flags.length > 0 && h('span', { class: 'flags' }, flags),
  );
}
