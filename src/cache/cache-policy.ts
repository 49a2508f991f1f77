/**
 * HTTP caching rules (RFC 9111) for a SHARED cache: one box serves many kiosks, so `private`
 * responses are never stored and `s-maxage` wins over `max-age`. Pure functions, no I/O.
 */
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

function seconds(v: string | true | undefined): number | undefined {
  if (v === undefined || v === true) return undefined;
  const n = Number.parseInt(v, 10);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** Statuses this cache stores; everything else is relayed only. */
const STORABLE_STATUS = new Set([200, 203, 204, 300, 301, 308, 404, 410]);
/** Statuses stored without explicit freshness (ttl_s applies): plain data answers only. */
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

/** Whether a response may be stored at all (before size and never_cache checks). */
export function isStorable(status: number, headers: HeaderMap): boolean {
  if (!STORABLE_STATUS.has(status)) return false;
  const cc = parseCacheControl(headers['cache-control']);
  if (cc.has('no-store') || cc.has('private')) return false;
  if (varyNames(headers) === '*') return false;
  if (DEFAULT_TTL_STATUS.has(status)) return true;
  return cc.has('s-maxage') || cc.has('max-age') || headers.expires !== undefined;
}

/** Freshness lifetime in seconds: s-maxage, max-age, Expires - Date, else the upstream's ttl_s. */
export function freshnessLifetimeS(headers: HeaderMap, ttlS: number): number {
  const cc = parseCacheControl(headers['cache-control']);
  if (cc.has('no-cache')) return 0;
  const s = seconds(cc.get('s-maxage')) ?? seconds(cc.get('max-age'));
  if (s !== undefined) return s;
  if (headers.expires !== undefined) {
    const exp = Date.parse(headers.expires);
    const date = headers.date ? Date.parse(headers.date) : Number.NaN;
    // Both stamps come from the upstream's clock, so the difference is safe on a box without RTC.
    if (Number.isNaN(exp) || Number.isNaN(date)) return 0;
    return Math.max(0, Math.floor((exp - date) / 1000));
  }
  return ttlS;
}

/**
 * Whether a stale copy may be served when the upstream is unreachable or failing
 * (RFC 9111 4.2.4 allows it when disconnected; RFC 5861 stale-if-error bounds it explicitly).
 * must-revalidate, proxy-revalidate, s-maxage (implies proxy-revalidate) and no-cache forbid it.
 */
export function mayServeStale(headers: HeaderMap, stalenessS: number): boolean {
  const cc = parseCacheControl(headers['cache-control']);
  const sie = seconds(cc.get('stale-if-error'));
  if (sie !== undefined) return stalenessS <= sie;
  if (cc.has('must-revalidate') || cc.has('proxy-revalidate') || cc.has('s-maxage') || cc.has('no-cache'))
    return false;
  return true;
}

/** The request asks for an end-to-end check (Cache-Control: no-cache / max-age=0, Pragma: no-cache). */
export function requestWantsRevalidation(headers: {
  readonly 'cache-control'?: string | undefined;
  readonly pragma?: string | undefined;
}): boolean {
  if (headers['cache-control'] === undefined && headers.pragma === undefined) return false;
  const cc = parseCacheControl(headers['cache-control']);
  if (cc.has('no-cache') || seconds(cc.get('max-age')) === 0) return true;
  return !headers['cache-control'] && /no-cache/i.test(headers.pragma ?? '');
}

/** Headers a 304 must not overwrite in the stored response (RFC 9111 3.2). */
const KEEP_ON_304 = new Set(['content-length', 'content-encoding', 'transfer-encoding', 'content-range']);

export function mergeNotModified(stored: HeaderMap, fresh: HeaderMap): HeaderMap {
  const out: HeaderMap = { ...stored };
  for (const [k, v] of Object.entries(fresh)) if (!KEEP_ON_304.has(k)) out[k] = v;
  return out;
}

/** The values of the request headers a response varies on, as a stable string key. */
export function varyKey(names: readonly string[], request: HeaderMap): string {
  if (names.length === 0) return '';
  return JSON.stringify(names.map((n) => [n, (request[n] ?? '').replace(/\s+/g, ' ').trim()]));
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
