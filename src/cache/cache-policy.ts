/**
 * HTTP caching rules (RFC 9111) for a SHARED cache: one box serves many kiosks, so `private`
 * responses are never stored and `s-maxage` wins over `max-age`. Pure functions, no I/O.
 * Request directives: reuse-policy.ts; kiosk conditionals and ranges: kiosk-conditionals.ts.
 */
import { forwardedOnRead } from './proxy-headers.js';

export type Directives = ReadonlyMap<string, string | true>;
export type HeaderMap = Record<string, string>;

export function parseCacheControl(value: string | undefined): Directives {
  const out = new Map<string, string | true>();
  if (!value) return out;
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (!name) continue;
    const raw =
      eq < 0
        ? true
        : part
            .slice(eq + 1)
            .trim()
            .replace(/^"(.*)"$/, '$1');
    if (!out.has(name)) out.set(name, raw);
  }
  return out;
}

/** delta-seconds (RFC 9111 1.2.2): digits only; too large → 2^31; anything else → undefined. */
export function deltaSeconds(v: string | true | undefined): number | undefined {
  if (v === undefined || v === true || !/^\d+$/.test(v)) return undefined;
  return Math.min(Number(v), 2147483648);
}

/**
 * A directive's delta-seconds where the directive is present: its value, or 0 when the value
 * is invalid (RFC 9111 4.2.1: invalid freshness information is best treated as stale).
 */
function lifetimeDirective(cc: Directives, name: string): number | undefined {
  if (!cc.has(name)) return undefined;
  return deltaSeconds(cc.get(name)) ?? 0;
}

const MONTHS = 'Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec';
const HTTP_DATE = [
  // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
  new RegExp(`^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \\d{2} (${MONTHS}) \\d{4} \\d{2}:\\d{2}:\\d{2} GMT$`),
  // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
  new RegExp(
    `^(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), \\d{2}-(${MONTHS})-\\d{2} \\d{2}:\\d{2}:\\d{2} GMT$`,
  ),
  // asctime: Sun Nov  6 08:49:37 1994
  new RegExp(`^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (${MONTHS}) [ \\d]\\d \\d{2}:\\d{2}:\\d{2} \\d{4}$`),
];

/**
 * An HTTP-date (RFC 9110 5.6.7) in ms, or undefined when the value is none of its three forms.
 * Date.parse alone reads "0", "2026" or a list of two dates as dates; a cache must not.
 */
export function parseHttpDate(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const t = v.trim();
  const form = HTTP_DATE.findIndex((rx) => rx.test(t));
  if (form < 0) return undefined;
  const ms = form === 2 ? Date.parse(`${t} GMT`) : Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The first member of an Age value when it is a non-negative integer, else 0 (RFC 9111 5.1). */
export function parseAge(v: string | undefined): number {
  return deltaSeconds(v?.split(',')[0]?.trim()) ?? 0;
}

/** Statuses that may get a heuristic lifetime (RFC 9110 15.1), less 206 and 501 (never stored here). */
const HEURISTIC_STATUS = new Set([200, 203, 204, 300, 301, 308, 404, 405, 410, 414]);
/** Statuses stored with explicit freshness; others (201, 206, 5xx, ...) are relayed only. */
const STORABLE_STATUS = new Set([...HEURISTIC_STATUS, 302, 307]);
/** Statuses given ttl_s when the upstream says nothing at all: plain data answers only. */
const DEFAULT_TTL_STATUS = new Set([200, 203]);

export function varyNames(headers: HeaderMap): string[] | '*' {
  const v = headers.vary;
  if (!v) return [];
  const names = v
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  if (names.includes('*')) return '*';
  return [...new Set(names)].sort();
}

/** The field names of a qualified directive (`private="a, b"`), lower case; [] when unqualified. */
export function directiveFields(cc: Directives, name: string): string[] {
  const v = cc.get(name);
  if (v === undefined || v === true) return [];
  return v
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
}

/** Unqualified `private` / `no-cache` (the qualified forms name fields, see below). */
function unqualified(cc: Directives, name: string): boolean {
  return cc.has(name) && directiveFields(cc, name).length === 0;
}

function explicitFreshness(cc: Directives, headers: HeaderMap): boolean {
  return cc.has('s-maxage') || cc.has('max-age') || headers.expires !== undefined;
}

/** Whether a response may be stored at all (before size and never_cache checks). RFC 9111 3. */
export function isStorable(status: number, headers: HeaderMap): boolean {
  if (!STORABLE_STATUS.has(status)) return false;
  const cc = parseCacheControl(headers['cache-control']);
  if (cc.has('no-store') || unqualified(cc, 'private')) return false;
  if (varyNames(headers) === '*') return false;
  if (DEFAULT_TTL_STATUS.has(status) || explicitFreshness(cc, headers)) return true;
  // Something to base a heuristic on: heuristically cacheable statuses with `public` or
  // Last-Modified; any other storable status only when marked `public` and with Last-Modified
  // (RFC 9111 4.2.2: "marked as explicitly cacheable (e.g., with a public response directive)").
  const lm = headers['last-modified'] !== undefined;
  return HEURISTIC_STATUS.has(status) ? cc.has('public') || lm : cc.has('public') && lm;
}

/**
 * The headers as stored: a qualified `private="f"` lets a shared cache keep the response but
 * not those fields (RFC 9111 5.2.2.7).
 */
export function storedHeaders(headers: HeaderMap): HeaderMap {
  const cc = parseCacheControl(headers['cache-control']);
  const drop = directiveFields(cc, 'private');
  if (drop.length === 0) return headers;
  const out: HeaderMap = {};
  for (const [k, v] of Object.entries(headers)) if (!drop.includes(k)) out[k] = v;
  return out;
}

/**
 * The headers sent with a stored response reused without revalidation (HIT, STALE): without
 * the fields a qualified `no-cache="f"` names (RFC 9111 5.2.2.4). A REVALIDATED answer has them.
 */
export function reusedHeaders(headers: HeaderMap): HeaderMap {
  const raw = headers['cache-control'];
  if (!raw?.toLowerCase().includes('no-cache=')) return headers;
  const drop = directiveFields(parseCacheControl(raw), 'no-cache');
  const out: HeaderMap = {};
  for (const [k, v] of Object.entries(headers)) if (!drop.includes(k)) out[k] = v;
  return out;
}

/**
 * Freshness lifetime in seconds (RFC 9111 4.2.1): s-maxage (shared cache), max-age, Expires
 * minus Date (the response time when Date is missing or invalid), else a heuristic: 10 % of
 * the time since Last-Modified, at most ttl_s, for heuristically cacheable statuses (any storable
 * status marked `public`); ttl_s for
 * 200/203 (and `public`) that say nothing at all. Invalid values mean already stale.
 */
export function freshnessLifetimeS(
  headers: HeaderMap,
  ttlS: number,
  status = 200,
  responseWallMs?: number,
): number {
  const cc = parseCacheControl(headers['cache-control']);
  if (unqualified(cc, 'no-cache')) return 0;
  const s = lifetimeDirective(cc, 's-maxage') ?? lifetimeDirective(cc, 'max-age');
  if (s !== undefined) return s;
  const date = parseHttpDate(headers.date) ?? responseWallMs;
  if (headers.expires !== undefined) {
    const exp = parseHttpDate(headers.expires);
    // Both stamps come from the upstream's clock when it sent Date (safe on a box without RTC).
    if (exp === undefined || date === undefined) return 0;
    return Math.max(0, Math.floor((exp - date) / 1000));
  }
  const heuristic = HEURISTIC_STATUS.has(status);
  // 4.2.2: heuristics only for heuristically cacheable statuses, or responses marked `public`.
  if (!heuristic && !cc.has('public')) return 0;
  const lm = parseHttpDate(headers['last-modified']);
  if (lm !== undefined && date !== undefined && date >= lm)
    return Math.min(ttlS, Math.floor((date - lm) / 10_000));
  return heuristic && (DEFAULT_TTL_STATUS.has(status) || cc.has('public')) ? ttlS : 0;
}

/**
 * Directives that forbid serving this response stale without a successful revalidation,
 * even when disconnected (RFC 9111 4.2.4; s-maxage implies proxy-revalidate, 5.2.2.10).
 */
export function forbidsStale(cc: Directives): boolean {
  return (
    cc.has('must-revalidate') ||
    cc.has('proxy-revalidate') ||
    cc.has('s-maxage') ||
    unqualified(cc, 'no-cache')
  );
}

/**
 * Whether a stale copy may be served when the upstream is unreachable or failing
 * (RFC 9111 4.2.4 allows it when disconnected; RFC 5861 stale-if-error bounds it explicitly and,
 * "regardless of other freshness information", allows it past must-revalidate & co; never
 * past an unqualified no-cache, which allows no reuse at all without validation).
 */
export function mayServeStale(headers: HeaderMap, stalenessS: number, requestSie?: number): boolean {
  const cc = parseCacheControl(headers['cache-control']);
  if (unqualified(cc, 'no-cache')) return false;
  const sie = deltaSeconds(cc.get('stale-if-error'));
  if (sie !== undefined && stalenessS <= sie) return true;
  if (requestSie !== undefined && stalenessS <= requestSie && !forbidsStale(cc)) return true;
  if (sie !== undefined || forbidsStale(cc)) return false;
  return true;
}

/** The request asks for an end-to-end check (Cache-Control: no-cache / max-age=0, Pragma: no-cache). */
export function requestWantsRevalidation(headers: {
  readonly 'cache-control'?: string | undefined;
  readonly pragma?: string | undefined;
}): boolean {
  if (headers['cache-control'] === undefined && headers.pragma === undefined) return false;
  const cc = parseCacheControl(headers['cache-control']);
  if (cc.has('no-cache') || deltaSeconds(cc.get('max-age')) === 0) return true;
  return !headers['cache-control'] && /no-cache/i.test(headers.pragma ?? '');
}

/** Headers a 304 must not overwrite in the stored response (RFC 9111 3.2). */
const KEEP_ON_304 = new Set(['content-length', 'content-encoding', 'transfer-encoding', 'content-range']);

export function mergeNotModified(stored: HeaderMap, fresh: HeaderMap): HeaderMap {
  const out: HeaderMap = { ...stored };
  for (const [k, v] of Object.entries(fresh)) if (!KEEP_ON_304.has(k)) out[k] = v;
  return out;
}

/**
 * The values of the request fields a response varies on, as a stable string key (RFC 9111
 * 4.1): whitespace normalised, an absent field distinct from an empty one, and a field the
 * gateway never forwards counted as absent (the upstream cannot have varied on it).
 */
export function varyKey(
  names: readonly string[],
  request: Readonly<Record<string, string | string[] | undefined>>,
): string {
  if (names.length === 0) return '';
  return JSON.stringify(
    names.map((n) => {
      const v = forwardedOnRead(n) ? request[n] : undefined;
      if (v === undefined) return [n, null];
      return [
        n,
        (Array.isArray(v) ? v.join(', ') : v)
          .replace(/[ \t]*,[ \t]*/g, ', ')
          .replace(/\s+/g, ' ')
          .trim(),
      ];
    }),
  );
}

/**
 * never_cache patterns: a glob when it contains `*` (`*` within one segment, `**` across
 * segments), else a plain path prefix. Matched against the path without the query.
 */
export function compileNeverCache(patterns: readonly string[]): (path: string) => boolean {
  const tests = patterns.map((p) => {
    if (!p.includes('*')) return (path: string) => path.startsWith(p);
    const rx = new RegExp(
      `^${p
        .split('**')
        .map((part) =>
          part
            .split('*')
            .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
            .join('[^/]*'),
        )
        .join('.*')}$`,
    );
    return (path: string) => rx.test(path);
  });
  return (path) => tests.some((t) => t(path));
}
