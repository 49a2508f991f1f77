import { h, replace } from '../../../web/static/js/dom.js';
import { wibMonth } from './format.js';
import { t } from './i18n.js';
import { drawSla } from './sla-view.js';

/**
 * The reports tab: the month's SLA per ISP (printable), and availability, incidents and usage
 * as CSV downloads from the report routes (GET /api/v1/reports/...).
 */
export function reportsView(main, regencyName = '') {
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
      ' ',
      h('button', { type: 'button', id: 'print', onclick: () => window.print() }, t('sla.print')),
    );
  const sla = h('div', { id: 'sla' });
  const drawAll = () => {
    draw();
    drawSla(sla, month.value, regencyName).catch(() =>
      replace(sla, h('p', { class: 'error' }, t('sla.failed'))),
    );
  };
  month.addEventListener('change', drawAll);
  drawAll();
  replace(
    main,
    h(
      'section',
      { class: 'card', id: 'reports' },
      h('h2', {}, t('reports.title')),
      h('p', { class: 'muted' }, t('reports.help')),
      h('label', { for: 'month' }, t('reports.month'), month),
      links,
      h('h2', {}, t('sla.title')),
      sla,
    ),
  );
  return { stop() {} };
}
