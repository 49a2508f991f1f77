import { type HeaderMap, parseHttpDate } from './cache-policy.js';

type RequestFields = Readonly<Record<string, string | string[] | undefined>>;

const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join(', ') : v);
const opaque = (tag: string) => tag.trim().replace(/^W\//, '');

/**
 * Whether the kiosk's own conditional GET is answered 304 from this response (RFC 9110
 * 13.1.2 / 13.1.3, RFC 9111 4.3.2): If-None-Match by weak comparison (`*` matches any), else
 * If-Modified-Since against Last-Modified, or the stored Date without one. Only for 200s.
 */
export function notModified(request: RequestFields, status: number, headers: HeaderMap): boolean {
  if (status !== 200) return false;
  const inm = one(request['if-none-match']);
  if (inm !== undefined) {
    if (inm.trim() === '*') return true;
    const etag = headers.etag;
    if (!etag) return false;
    return inm.split(',').some((t) => t.trim() !== '' && opaque(t) === opaque(etag));
  }
  const ims = parseHttpDate(one(request['if-modified-since']));
  if (ims === undefined) return false;
  const modified = parseHttpDate(headers['last-modified']) ?? parseHttpDate(headers.date);
  return modified !== undefined && modified <= ims;
}

export type ByteRange = { start: number; end: number };

/**
 * The one byte range a kiosk asked of a complete 200 (RFC 9110 14.2): `bytes=a-b`, `a-`, `-n`.
 * undefined: answer the whole body (no Range, another unit, several ranges, or an If-Range
 * that does not match: strong ETag comparison, or Last-Modified equal to the date).
 * 'unsatisfiable': 416.
 */
export function rangeFor(
  request: RequestFields,
  status: number,
  headers: HeaderMap,
  size: number,
): ByteRange | 'unsatisfiable' | undefined {
  const range = one(request.range);
  if (range === undefined || status !== 200) return undefined;
  const ifRange = one(request['if-range'])?.trim();
  if (ifRange !== undefined) {
    if (ifRange.startsWith('"') || ifRange.startsWith('W/')) {
      const etag = headers.etag;
      if (!etag || ifRange.startsWith('W/') || etag.startsWith('W/') || ifRange !== etag) return undefined;
    } else {
      const d = parseHttpDate(ifRange);
      if (d === undefined || d !== parseHttpDate(headers['last-modified'])) return undefined;
    }
  }
  const m = /^bytes[ \t]*=[ \t]*(\d*)[ \t]*-[ \t]*(\d*)[ \t]*$/i.exec(range);
  if (!m) return undefined;
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return undefined;
  if (a === '') {
    const n = Number(b);
    if (n === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (b !== '' && Number(b) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}
