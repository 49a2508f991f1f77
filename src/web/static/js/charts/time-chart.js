import { GRID, INK, LAYER_COLORS, MUTED } from './palette.js';
import { frame, niceMax, s, timeTicks, uid } from './svg.js';

const M = { left: 44, right: 10, top: 10, bottom: 24 };

/**
 * One time axis (WIB) with lines, outage bands in the colour of their fault layer and the
 * periods with an unsynced clock hatched along the bottom.
 * series: [{ key, color, values, x? }] — x defaults to the middle of each bucket of `t`.
 */
export function timeChart(o) {
  const { from, to, width, height = 170, label, unit } = o;
  const pw = width - M.left - M.right;
  const ph = height - M.top - M.bottom;
  const x = (ms) => M.left + ((ms - from) / (to - from)) * pw;
  const all = o.series.flatMap((se) => se.values.filter((v) => v !== null));
  const top = o.yMax ?? niceMax(Math.max(0, ...all) * 1.1);
  const y = (v) => M.top + ph - (Math.min(v, top) / top) * ph;
  const clip = (ms) => Math.max(from, Math.min(to, ms));
  const hatch = uid('hatch');

  const bands = (o.bands ?? []).map((b) => {
    const x0 = x(clip(Date.parse(b.start)));
    const w = Math.max(2, x(clip(Date.parse(b.end))) - x0);
    const color = LAYER_COLORS[b.fault_layer] ?? MUTED;
    return s(
      'g',
      { class: 'band', 'data-layer': b.fault_layer ?? '' },
      s('rect', { x: x0, y: M.top, width: w, height: ph, fill: color, 'fill-opacity': 0.16 }),
      // A solid bar on top: the tint alone would not meet the contrast target.
      s('rect', { x: x0, y: M.top, width: w, height: 5, fill: color }),
    );
  });
  const unsynced = (o.unsynced ?? []).map((u) => {
    const x0 = x(clip(Date.parse(u.start)));
    return s('rect', {
      class: 'unsynced',
      x: x0,
      y: M.top + ph - 7,
      width: Math.max(2, x(clip(Date.parse(u.end))) - x0),
      height: 7,
      fill: `url(#${hatch})`,
      stroke: INK,
      'stroke-width': 0.5,
    });
  });
  const grid = [0, top / 2, top].map((v) =>
    s(
      'g',
      {},
      s('line', { x1: M.left, x2: M.left + pw, y1: y(v), y2: y(v), stroke: GRID }),
      s('text', { x: M.left - 4, y: y(v) + 4, 'text-anchor': 'end', class: 'tick' }, `${fmt(v)}${unit}`),
    ),
  );
  const ticks = timeTicks(from, to, pw).map((tk) =>
    s(
      'g',
      {},
      s('line', { x1: x(tk.t), x2: x(tk.t), y1: M.top, y2: M.top + ph, stroke: GRID }),
      s(
        'text',
        {
          x: Math.min(width - 18, x(tk.t)),
          y: height - 6,
          'text-anchor': 'middle',
          class: tk.strong ? 'tick strong' : 'tick',
        },
        tk.label,
      ),
    ),
  );
  const half = ((o.t?.[1] ?? 0) - (o.t?.[0] ?? 0)) / 2;
  const lines = o.series.map((se) => {
    const xs = se.x ?? o.t.map((b) => b + half);
    let d = '';
    const dots = [];
    se.values.forEach((v, i) => {
      if (v === null) return;
      const prev = i > 0 ? se.values[i - 1] : null;
      const next = i + 1 < se.values.length ? se.values[i + 1] : null;
      d += `${prev === null || d === '' ? 'M' : 'L'}${x(xs[i]).toFixed(1)},${y(v).toFixed(1)}`;
      if ((prev === null && next === null) || se.dots)
        dots.push(s('circle', { cx: x(xs[i]), cy: y(v), r: 3, fill: se.color }));
    });
    return s(
      'g',
      { class: 'series', 'data-key': se.key },
      d && !se.dots ? s('path', { d, fill: 'none', stroke: se.color, 'stroke-width': 2 }) : null,
      dots,
    );
  });
  return frame(
    width,
    height,
    label,
    s(
      'defs',
      {},
      s(
        'pattern',
        { id: hatch, width: 4, height: 4, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' },
        s('rect', { width: 4, height: 4, fill: '#fff' }),
        s('line', { x1: 0, y1: 0, x2: 0, y2: 4, stroke: INK, 'stroke-width': 2 }),
      ),
    ),
    grid,
    ticks,
    bands,
    unsynced,
    lines,
  );
}

function fmt(v) {
  return v >= 100 || Number.isInteger(v) ? String(Math.round(v)) : v.toFixed(1);
}
