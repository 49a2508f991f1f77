import { h } from '../dom.js';

let charts = null;
/** The charts chunk, fetched once, the first time a view draws a chart. */
export function loadCharts() {
  charts ??= import('../charts/index.js');
  return charts;
}

const redraws = new Map();

/**
 * Draws a chart box now, and again whenever the page's width changes (a phone turned to
 * landscape, a window resized) for as long as the box is on the page: charts are drawn for
 * the width they get, so they must follow it. The latest drawing of a box replaces the last.
 */
export function drawn(box, draw) {
  redraws.set(box, draw);
  draw();
}

/** Redraws every chart still on the page (main.js calls it when the width has changed). */
export function redrawCharts() {
  for (const [box, draw] of redraws) {
    if (box.isConnected) draw();
    else redraws.delete(box);
  }
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
