import { h } from '../dom.js';

let charts = null;
/** The charts chunk, fetched once, the first time a view draws a chart. */
export function loadCharts() {
  charts ??= import('../charts/index.js');
  return charts;
}

/** A legend as text: a swatch, the name and (optionally) the latest value each. */
export function legend(id, items) {
  return h(
    'ul',
    { class: 'legend', id },
    items.map((it) =>
      h(
        'li',
        { dataset: { key: it.key } },
        swatch(it.color),
        ` ${it.text}`,
        it.value !== undefined ? h('span', { class: 'legend-value' }, ` ${it.value}`) : null,
      ),
    ),
  );
}

/** A colour square; set through the CSSOM, which the page's CSP allows (inline styles it does not). */
export function swatch(color) {
  const el = h('span', { class: 'swatch' });
  el.style.backgroundColor = color;
  return el;
}
