import { WIB_OFFSET_MS } from '../../../../core/wib.js';

const NS = 'http://www.w3.org/2000/svg';

/** SVG element builder: attributes as given, text as text nodes (never markup). */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    el.setAttribute(k, String(v));
  }
  for (const c of children.flat(3)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** An SVG drawn in CSS pixels of its box: text keeps its size on a 360 px phone. */
export function frame(width, height, label, ...children) {
  return s(
    'svg',
    {
      viewBox: `0 0 ${width} ${height}`,
      width,
      height,
      role: 'img',
      'aria-label': label,
      class: 'chart-svg',
    },
    s('title', {}, label),
    children,
  );
}

/** Usable width of a container, within sane bounds (the page may not be laid out yet). */
export function widthOf(el, fallback = 320) {
  const w = el.clientWidth || fallback;
  return Math.max(260, Math.min(w, 1100));
}

const p2 = (n) => String(n).padStart(2, '0');
const wibParts = (ms) => {
  const d = new Date(ms + WIB_OFFSET_MS);
  return { h: d.getUTCHours(), m: d.getUTCMinutes(), day: d.getUTCDate(), mon: d.getUTCMonth() + 1 };
};
export const hm = (ms) => {
  const p = wibParts(ms);
  return `${p2(p.h)}:${p2(p.m)}`;
};
export const dm = (ms) => {
  const p = wibParts(ms);
  return `${p2(p.day)}-${p2(p.mon)}`;
};

const H = 3_600_000;
const STEPS = [H, 2 * H, 3 * H, 6 * H, 12 * H, 24 * H, 48 * H, 7 * 24 * H];

/** Tick times on WIB boundaries, at most one per ~64 px; labels "HH:MM" or "dd-mm". */
export function timeTicks(from, to, px) {
  const span = to - from;
  const step = STEPS.find((st) => span / st <= px / 64) ?? STEPS[STEPS.length - 1];
  const first = Math.ceil((from + WIB_OFFSET_MS) / step) * step - WIB_OFFSET_MS;
  const out = [];
  for (let t = first; t <= to; t += step) {
    const midnight = hm(t) === '00:00';
    out.push({ t, label: step >= 24 * H || (midnight && step >= 6 * H) ? dm(t) : hm(t), strong: midnight });
  }
  return out;
}

/** A round upper bound for a y axis (1, 2, 5 × 10^n). */
export function niceMax(v) {
  if (!(v > 0)) return 1;
  const e = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 5, 10].map((m) => m * e).find((m) => m >= v) ?? 10 * e;
}

let seq = 0;
/** Ids for patterns: unique in the document, whatever number of charts are drawn. */
export const uid = (prefix) => `${prefix}-${++seq}`;
