import { api } from '../../../web/static/js/api.js';
import { h, replace } from '../../../web/static/js/dom.js';
import { num, wib } from './format.js';
import { t } from './i18n.js';

const met = (m) =>
  m === null || m === undefined
    ? h('span', { class: 'muted' }, '—')
    : h('strong', { class: m ? 'slo-met' : 'slo-missed' }, m ? `✓ ${t('sla.met')}` : `✗ ${t('sla.missed')}`);

const table = (heads, rows) =>
  h(
    'table',
    { class: 'outages' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        heads.map((k) => h('th', {}, t(k))),
      ),
    ),
    h('tbody', {}, rows),
  );

/**
 * The month's SLA on the reports tab (GET /api/v1/reports/availability): per ISP the SLO and
 * whether it was met, the declared maintenance taken out, the villages that missed, and the
 * method; laid out to print (A4) as the report a regency hands an ISP.
 */
export async function drawSla(el, month, regencyName) {
  const r = await api('GET', `/api/v1/reports/availability?month=${month}`);
  const byCode = new Map(r.villages.map((v) => [v.code, v]));
  const breaches = r.isp.flatMap((g) => g.sla.breaches.map((c) => byCode.get(c))).filter(Boolean);
  replace(
    el,
    h('h3', { class: 'print-only' }, regencyName),
    h('p', { id: 'sla-period' }, t('sla.period', { month: r.month, from: wib(r.from), to: wib(r.to) })),
    h('h3', {}, t('sla.by_isp')),
    table(
      [
        'sla.isp',
        'sla.villages',
        'sla.slo',
        'sla.availability',
        'sla.result',
        'sla.charged',
        'sla.maintenance',
      ],
      r.isp.map((g) =>
        h(
          'tr',
          { class: g.sla.met === false ? 'interrupted' : undefined },
          h('td', {}, g.isp ?? t('sla.no_isp')),
          h('td', {}, `${g.with_data} / ${g.villages}`),
          h('td', {}, num(g.sla.slo_pct, ' %', 2)),
          h('td', {}, num(g.sla.availability_pct, ' %', 2)),
          h('td', {}, met(g.sla.met)),
          h('td', {}, num(g.sla.charged_down_min, ' m', 1)),
          h('td', {}, num(g.maintenance_min, ' m', 1)),
        ),
      ),
    ),
    h('h3', {}, t('sla.breaches')),
    breaches.length === 0
      ? h('p', { class: 'muted' }, t('sla.no_breaches'))
      : table(
          ['village.code', 'sla.village', 'sla.isp', 'sla.availability', 'sla.slo', 'sla.charged'],
          breaches.map((v) =>
            h(
              'tr',
              {},
              h('td', {}, v.code),
              h('td', {}, `${v.name ?? '—'} (${v.kecamatan ?? '—'})`),
              h('td', {}, v.isp ?? '—'),
              h('td', {}, num(v.sla.availability_pct, ' %', 2)),
              h('td', {}, num(v.sla.slo_pct, ' %', 2)),
              h('td', {}, num(v.sla.charged_down_min, ' m', 1)),
            ),
          ),
        ),
    h('h3', {}, t('sla.maintenance_list')),
    r.maintenance.length === 0
      ? h('p', { class: 'muted' }, t('sla.no_maintenance'))
      : table(
          ['sla.window', 'sla.scope', 'village.start', 'village.end', 'sla.minutes'],
          r.maintenance.map((m) =>
            h(
              'tr',
              {},
              h('td', {}, m.name),
              h('td', {}, [m.isp, m.kecamatan, m.village].filter(Boolean).join(' · ') || t('sla.all')),
              h('td', {}, wib(m.start)),
              h('td', {}, wib(m.end)),
              h('td', {}, num(m.minutes, '', 0)),
            ),
          ),
        ),
    h(
      'p',
      { class: 'muted method' },
      t('sla.layers', { layers: r.sla.charged_layers.join(', ') }),
      ' ',
      t('sla.method'),
    ),
  );
}
