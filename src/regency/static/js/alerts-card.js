import { api } from '../../../web/static/js/api.js';
import { h, replace } from '../../../web/static/js/dom.js';
import { wib } from './format.js';
import { label, t } from './i18n.js';

const SHOWN = 20;

function draw(el, r) {
  const c = r.counts;
  const chips = h(
    'p',
    { class: 'alert-counts' },
    ['pending', 'sent', 'failed'].map((s) =>
      h(
        'span',
        { class: `chip alert-${s}`, 'data-state': s },
        `${t(s === 'failed' ? 'alerts.failed_n' : `alerts.${s}`)}: ${c[s]}`,
      ),
    ),
  );
  if (r.hooks === 0) return replace(el, h('p', { class: 'muted' }, t('alerts.no_hooks')));
  if (r.alerts.length === 0) return replace(el, chips, h('p', { class: 'muted' }, t('alerts.empty')));
  const heads = [
    'alerts.created',
    'alerts.kind',
    'fleet_inc.villages',
    'alerts.hook',
    'alerts.state',
    'alerts.error',
  ];
  replace(
    el,
    chips,
    h(
      'div',
      { class: 'table-scroll' },
      h(
        'table',
        { class: 'outages alerts-list' },
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
          r.alerts.map((a) =>
            h(
              'tr',
              { 'data-state': a.state, 'data-kind': a.kind },
              h('td', {}, wib(a.created)),
              h('td', {}, label('alert_kind', a.kind)),
              h('td', {}, h('a', { href: `#/desa/${a.village.code}` }, a.village.name ?? a.village.code)),
              h('td', {}, a.hook ?? '—'),
              h(
                'td',
                {},
                label('alert_state', a.state),
                a.state === 'sent' && a.sent ? ` ${wib(a.sent, false)}` : '',
                a.attempts > 1 ? ` (${t('alerts.attempts', { n: a.attempts })})` : '',
              ),
              h('td', { class: a.last_error ? 'error' : 'muted' }, a.last_error ?? '—'),
            ),
          ),
        ),
      ),
    ),
  );
}

/**
 * The webhook alerts as the NOC sees them (GET /api/v1/alerts): counts by state and the newest
 * alerts with their delivery state, so a receiver that refuses them is seen on the page, not
 * only in the log.
 */
export function alertsCard() {
  const body = h('div', { id: 'alerts-list' });
  api('GET', `/api/v1/alerts?limit=${SHOWN}`)
    .then((r) => draw(body, r))
    .catch(() => replace(body, h('p', { class: 'error' }, t('alerts.failed'))));
  return h(
    'section',
    { class: 'card', id: 'alerts-card' },
    h('h2', {}, t('alerts.title')),
    h('p', { class: 'muted' }, t('alerts.help')),
    body,
  );
}
