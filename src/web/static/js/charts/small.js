import { GRID, INK, LAYER_COLORS } from './palette.js';
import { frame, niceMax, s } from './svg.js';

/** Small bars, one per day, the count written over each bar. */
export function dayBars({ labels, values, width, label, color = LAYER_COLORS.lan, height = 84 }) {
  const top = niceMax(Math.max(1, ...values));
  const n = values.length;
  const bw = width / n;
  const ph = height - 30;
  return frame(
    width,
    height,
    label,
    s('line', { x1: 0, x2: width, y1: 14 + ph, y2: 14 + ph, stroke: GRID }),
    values.map((v, i) => {
      const h = (v / top) * ph;
      return s(
        'g',
        { class: 'bar', 'data-value': v },
        s('rect', { x: i * bw + bw * 0.18, y: 14 + ph - h, width: bw * 0.64, height: h, fill: color }),
        s(
          'text',
          { x: i * bw + bw / 2, y: 14 + ph - h - 3, 'text-anchor': 'middle', class: 'tick' },
          v > 0 ? v : '',
        ),
        s('text', { x: i * bw + bw / 2, y: height - 3, 'text-anchor': 'middle', class: 'tick' }, labels[i]),
      );
    }),
  );
}

/** A sparkline over fixed slots (nulls leave gaps), with its latest and highest value beside it. */
export function sparkline({ values, width, label, color = INK, min = 0, max, height = 34, bars = false }) {
  const known = values.filter((v) => v !== null);
  const top = max ?? niceMax(Math.max(1, ...known));
  const n = values.length;
  const x = (i) => (i / Math.max(1, n - 1)) * (width - 2) + 1;
  const y = (v) => height - 2 - ((Math.min(v, top) - min) / (top - min || 1)) * (height - 4);
  let d = '';
  const marks = [];
  values.forEach((v, i) => {
    if (v === null) return;
    if (bars) {
      if (v > 0)
        marks.push(s('rect', { x: x(i) - 1, y: y(v), width: 2.5, height: height - 2 - y(v), fill: color }));
      return;
    }
    d += `${i === 0 || values[i - 1] === null ? 'M' : 'L'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
  });
  return frame(
    width,
    height,
    label,
    s('line', { x1: 0, x2: width, y1: height - 1, y2: height - 1, stroke: GRID }),
    d ? s('path', { d, fill: 'none', stroke: color, 'stroke-width': 1.5, class: 'spark' }) : null,
    marks,
  );
}
