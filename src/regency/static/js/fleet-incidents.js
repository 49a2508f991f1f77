import { WIB_OFFSET_MS } from '../../../core/wib.js';
import { api } from '../../../web/static/js/api.js';
import { h, replace } from '../../../web/static/js/dom.js';
import { alertsCard } from './alerts-card.js';
import { duration, wib } from './format.js';
import { label, t } from './i18n.js';

const DAY_MS = 86_400_000;
const wibDay = (ms) => new Date(ms + WIB_OFFSET_MS).toISOString().slice(0, 10);

/** Who answers for a fleet incident: planned work, the ISP's contract, or no one's. */
function charge(g) {
  if (g.planned.length > 0)
    return h('span', { class: 'planned' }, t('fleet_inc.planned', { name: g.planned.join(', ') }));
  if (g.charged_to_isp)
    return h('strong', { class: 'charged' }, t('fleet_inc.charged', { isp: g.isp ?? '—' }));
  return h('span', { class: 'muted' }, t('fleet_inc.not_charged'));
}

function scope(g) {
  if (g.scope === 'regency') return t('fleet_inc.scope_regency');
  return [g.isp, g.kecamatan].filter((x) => x).join(' · ') || '—';
}

function draw(el, report) {
  const groups = report.groups;
  if (groups.length === 0) return replace(el, h('p', { class: 'muted' }, t('fleet_inc.empty')));
  const heads = [
    'village.start',
    'village.end',
    'village.duration',
    'fleet_inc.cause',
    'fleet_inc.scope',
    'fleet_inc.villages',
    'fleet_inc.sla',
  ];
  replace(
    el,
    h(
      'div',
      { class: 'table-scroll' },
      h(
        'table',
        { class: 'outages incidents fleet-incidents' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            heads.map((k) => h('th', {}, t(k))),
          ),
        ),
        h(
          'tbody',
          {},
          groups.map((g) =>
            h(
              'tr',
              { class: g.state === 'open' ? 'ongoing' : undefined, 'data-cause': g.cause },
              h('td', {}, wib(g.start)),
              h('td', {}, g.state === 'open' ? t('village.ongoing') : wib(g.end)),
              h('td', {}, duration(g.duration_s)),
              h('td', {}, label('layer', g.cause)),
              h('td', {}, scope(g)),
              h(
                'td',
                {},
                h('strong', {}, String(g.villages.length)),
                ' — ',
                g.villages.map((v, i) => [
                  i > 0 ? ', ' : '',
                  h('a', { href: `#/desa/${v.code}` }, v.name ?? v.code),
                ]),
              ),
              h('td', {}, charge(g)),
            ),
          ),
        ),
      ),
    ),
  );
}

/** The days asked for, kept in the hash (#/insiden?from=&to=) across a language switch or in a link. */
function chosenDays() {
  const q = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const ok = (d) => (/^\d{4}-\d{2}-\d{2}$/.test(d ?? '') ? d : null);
  return { from: ok(q.get('from')), to: ok(q.get('to')) };
}

/**
 * The incidents tab: outages of several villages that share a cause, one row each with its
 * villages and who answers for it (GET /api/v1/incidents, `groups`), for chosen WIB days.
 */
export function fleetIncidentsView(main) {
  const chosen = chosenDays();
  const from = h('input', {
    type: 'date',
    id: 'inc-from',
    value: chosen.from ?? wibDay(Date.now() - 6 * DAY_MS),
  });
  const to = h('input', { type: 'date', id: 'inc-to', value: chosen.to ?? wibDay(Date.now()) });
  const list = h('div', { id: 'fleet-incidents' });
  const csv = h('a', {}, t('incidents.csv'));
  let stopped = false;
  let asked = 0;
  const load = async () => {
    if (!from.value || !to.value) return;
    const n = ++asked;
    const query = `from=${from.value}&to=${to.value}T23:59:59`;
    csv.setAttribute('href', `/api/v1/incidents?${query}&format=csv`);
    const r = await api('GET', `/api/v1/incidents?${query}`);
    // Only the latest question is drawn: an earlier, slower answer must not replace it.
    if (!stopped && n === asked) draw(list, r);
  };
  const reload = () => load().catch(() => replace(list, h('p', { class: 'error' }, t('fleet_inc.failed'))));
  const changed = () => {
    history.replaceState(null, '', `#/insiden?from=${from.value}&to=${to.value}`);
    reload();
  };
  from.addEventListener('change', changed);
  to.addEventListener('change', changed);
  replace(
    main,
    h(
      'section',
      { class: 'card', id: 'incidents-tab' },
      h('h2', {}, t('fleet_inc.title')),
      h('p', { class: 'muted' }, t('fleet_inc.help')),
      h(
        'p',
        { class: 'date-range' },
        h('label', { for: 'inc-from' }, t('fleet_inc.from'), from),
        ' ',
        h('label', { for: 'inc-to' }, t('fleet_inc.to'), to),
      ),
      list,
      h('p', {}, csv),
    ),
    alertsCard(),
  );
  reload();
  return {
    stop() {
      stopped = true;
    },
  };
}
