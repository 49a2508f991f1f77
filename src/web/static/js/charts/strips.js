import { GRID, HEAT, INK, STATE_COLORS } from './palette.js';
import { frame, s, timeTicks, uid } from './svg.js';

/** Worst state of one bucket: a minute of trouble in 15 shows, a few seconds do not. */
export function bucketState(down, degraded, measured) {
  if (!measured) return 'unknown';
  if (down >= 60) return 'down';
  if (down + degraded >= 60) return 'degraded';
  return 'up';
}

/**
 * One line of coloured periods on a time axis: segments [{ start, end, state }] (epoch ms).
 * Offline is hatched as well as coloured, so it never depends on colour alone.
 */
export function stateStrip({ from, to, segments, width, label, axis = true, height = 18 }) {
  const left = 0;
  const pw = width;
  const x = (ms) => left + ((Math.max(from, Math.min(to, ms)) - from) / (to - from)) * pw;
  const full = axis ? height + 16 : height;
  const hatch = uid('hatch-down');
  const rects = segments.map((g) =>
    s(
      'rect',
      {
        class: `seg s-${g.state}`,
        'data-state': g.state,
        x: x(g.start),
        y: 0,
        width: Math.max(1, x(g.end) - x(g.start)),
        height,
        fill: g.state === 'down' || g.state === 'offline' ? `url(#${hatch})` : STATE_COLORS[g.state],
      },
      s('title', {}, g.title ?? g.state),
    ),
  );
  const ticks = axis
    ? timeTicks(from, to, pw).map((tk) =>
        s(
          'text',
          {
            x: Math.min(width - 14, Math.max(14, x(tk.t))),
            y: full - 2,
            'text-anchor': 'middle',
            class: 'tick',
          },
          tk.label,
        ),
      )
    : [];
  return frame(
    width,
    full,
    label,
    s(
      'defs',
      {},
      s(
        'pattern',
        { id: hatch, width: 6, height: 6, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' },
        s('rect', { width: 6, height: 6, fill: STATE_COLORS.down }),
        s('line', { x1: 0, y1: 0, x2: 0, y2: 6, stroke: '#fff', 'stroke-width': 1.5 }),
      ),
    ),
    s('rect', { x: 0, y: 0, width, height, fill: '#fff', stroke: GRID }),
    rects,
    ticks,
  );
}

/** Buckets of a link chart reply → merged segments of one state. */
export function bucketSegments(t, stepMs, states) {
  const out = [];
  t.forEach((b, i) => {
    const state = bucketState(states.down_s[i], states.degraded_s[i], states.measured_s[i]);
    const last = out[out.length - 1];
    if (last && last.state === state && last.end === b) last.end = b + stepMs;
    else out.push({ start: b, end: b + stepMs, state });
  });
  return out;
}

const pctClass = (p) => (p === null ? 'none' : p >= 99.5 ? 'good' : p >= 95 ? 'fair' : 'poor');
const PCT_FILL = {
  good: STATE_COLORS.up,
  fair: STATE_COLORS.degraded,
  poor: STATE_COLORS.down,
  none: '#fff',
};

/** 30 days in a row, one cell a day coloured by availability; the worst days get their %. */
export function calendarStrip({ days, width, label, dayLabel }) {
  const n = days.length;
  const cw = width / n;
  const cells = days.map((d, i) => {
    const c = pctClass(d.up_pct);
    return s(
      'g',
      { class: `day p-${c}`, 'data-day': d.day, 'data-pct': d.up_pct ?? '' },
      s('rect', {
        x: i * cw + 1,
        y: 0,
        width: cw - 2,
        height: 26,
        fill: PCT_FILL[c],
        stroke: c === 'none' ? GRID : INK,
        'stroke-width': c === 'none' ? 1 : 0,
      }),
      s('title', {}, dayLabel(d)),
    );
  });
  // Today and every 7th day back from it, as long as labels keep ~44 px apart.
  let lastX = Number.POSITIVE_INFINITY;
  const marks = days
    .map((d, i) => ({ d, i }))
    .filter(({ i }) => i % 7 === (n - 1) % 7)
    .reverse()
    .filter(({ i }) => {
      const keep = lastX - i * cw >= 44;
      if (keep) lastX = i * cw;
      return keep;
    })
    .map(({ d, i }) =>
      s(
        'text',
        {
          x: Math.min(width - 16, Math.max(16, i * cw + cw / 2)),
          y: 42,
          'text-anchor': 'middle',
          class: 'tick',
        },
        `${d.day.slice(8, 10)}-${d.day.slice(5, 7)}`,
      ),
    );
  return frame(width, 48, label, cells, marks);
}

/** Weekday × hour (WIB) of down minutes: a pattern such as "every evening at 18" shows as a column. */
export function heatMap({ down, width, label, weekdays, cellLabel }) {
  const left = 34;
  const cw = (width - left) / 24;
  const ch = Math.max(14, Math.min(22, cw));
  const max = Math.max(1, ...down.flat());
  const fill = (m) =>
    m <= 0 ? '#fff' : HEAT[Math.min(HEAT.length - 1, Math.floor((m / max) * HEAT.length))];
  const rows = down.map((row, wd) =>
    s(
      'g',
      { class: 'row' },
      s('text', { x: left - 4, y: wd * ch + ch * 0.7, 'text-anchor': 'end', class: 'tick' }, weekdays[wd]),
      row.map((m, hr) =>
        s(
          'rect',
          {
            class: m > 0 ? 'cell hot' : 'cell',
            'data-wd': wd,
            'data-hour': hr,
            'data-min': m,
            x: left + hr * cw + 0.5,
            y: wd * ch + 0.5,
            width: cw - 1,
            height: ch - 1,
            fill: fill(m),
            stroke: m > 0 ? 'none' : GRID,
          },
          s('title', {}, cellLabel(wd, hr, m)),
        ),
      ),
    ),
  );
  const hours = [0, 6, 12, 18, 23].map((hr) =>
    s(
      'text',
      { x: left + hr * cw + cw / 2, y: 7 * ch + 13, 'text-anchor': 'middle', class: 'tick' },
      String(hr).padStart(2, '0'),
    ),
  );
  return frame(width, 7 * ch + 18, label, rows, hours);
}
