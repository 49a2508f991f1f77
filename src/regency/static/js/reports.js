import { h, replace } from '../../../web/static/js/dom.js';
import { wibMonth } from './format.js';
import { t } from './i18n.js';

/**
 * The reports tab: the month's availability and usage as CSV downloads from the report routes
 * (GET /api/v1/reports/...); its tables and charts come with them.
 */
export function reportsView(main) {
  const month = h('input', { type: 'month', id: 'month', value: wibMonth() });
  const links = h('p', { class: 'downloads' });
  const draw = () =>
    replace(
      links,
      h(
        'a',
        { class: 'button', href: `/api/v1/reports/availability?month=${month.value}&format=csv` },
        t('reports.availability'),
      ),
      ' ',
      h(
        'a',
        { class: 'button', href: `/api/v1/reports/usage?month=${month.value}&format=csv` },
        t('reports.usage'),
      ),
    );
  month.addEventListener('change', draw);
  draw();
  replace(
    main,
    h(
      'section',
      { class: 'card', id: 'reports' },
      h('h2', {}, t('reports.title')),
      h('p', { class: 'muted' }, t('reports.help')),
      h('label', { for: 'month' }, t('reports.month'), month),
      links,
    ),
  );
  return { stop() {} };
}
