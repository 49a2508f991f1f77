import { h, replace } from '../../../web/static/js/dom.js';
import { duration, wib } from './format.js';
import { label, t } from './i18n.js';

/**
 * The village page's incident list (GET /api/v1/incidents?village=CODE): outages derived from
 * the verdict history, with their evidence, and a CSV link for the same window.
 */
export function drawIncidents(el, code, report) {
  const csv = h(
    'p',
    {},
    h(
      'a',
      { href: `/api/v1/incidents?village=${code}&from=${report.from}&to=${report.to}&format=csv` },
      t('incidents.csv'),
    ),
  );
  if (report.incidents.length === 0)
    return replace(el, h('p', { class: 'muted' }, t('incidents.empty')), csv);
  const heads = ['village.start', 'village.end', 'village.duration', 'village.layer', 'incidents.evidence'];
  replace(
    el,
    h(
      'table',
      { class: 'outages incidents' },
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
        report.incidents.map((i) =>
          h(
            'tr',
            { class: i.interrupted ? 'interrupted' : i.state === 'open' ? 'ongoing' : undefined },
            h('td', {}, wib(i.start)),
            h(
              'td',
              {},
              i.state === 'open' ? t('village.ongoing') : wib(i.end),
              i.interrupted && h('span', { class: 'mark' }, ` — ${t('incidents.interrupted')}`),
            ),
            h('td', {}, duration(i.duration_s)),
            h('td', {}, label('layer', i.layer)),
            h(
              'td',
              {},
              t('incidents.evidence_line', {
                probes: i.evidence.probes,
                seq_gaps: i.evidence.seq_gaps,
                data_gaps: i.evidence.data_gaps,
              }),
            ),
          ),
        ),
      ),
    ),
    csv,
  );
}
