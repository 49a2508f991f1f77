import { GwError } from '../core/errors.js';
import { looksLikeNik } from '../core/nik.js';

/**
 * The path and query after /svc/{upstream}, normalised once (RFC 3986 §6.2.2) before anything
 * looks at it: never_cache, prefetch, the cache key and the URL forwarded upstream all see the
 * same string, so `/./warga/1`, `/x/../warga/1`, `//warga/1` and `/%77arga/1` are `/warga/1`.
 *
 * - percent-encodings of unreserved characters (`A-Z a-z 0-9 - . _ ~`) are decoded, every
 *   other `%xx` is written with upper-case hex (§6.2.2.1, §6.2.2.2), in path and query;
 * - runs of `/` become one `/`, then dot-segments are removed (§5.2.4; `..` above the root
 *   stays at the root, so nothing climbs out of the upstream's base_url).
 *
 * Refused with 400: an encoded `/` or `\` (`%2F`, `%5C`: `..%2F` would climb once an upstream
 * decodes it), an encoded `%` (`%25`: `%252e` is a dot to an upstream that decodes twice), a
 * raw `\` (WHATWG URL parsers read it as `/`), `#`, and a malformed `%` escape.
 * Refused with 422: a NIK-like digit run in the decoded path or query.
 */
export function normalizeSvcPath(raw: string): string {
  const q = raw.indexOf('?');
  const rawPath = q < 0 ? raw : raw.slice(0, q);
  const rawQuery = q < 0 ? '' : raw.slice(q);
  if (rawPath.includes('\\') || raw.includes('#')) throw bad('a backslash or # in the path');
  const decoded = percentNormal(rawPath, true);
  const path = removeDotSegments(`/${decoded}`.replace(/\/{2,}/g, '/'));
  const query = percentNormal(rawQuery, false);
  if (looksLikeNik(safeDecode(path)) || looksLikeNik(safeDecode(query.replaceAll('+', ' '))))
    throw new GwError('GW_ERR_PII_REFUSED');
  return path + query;
}

/**
 * normalizeSvcPath with a small memo of the paths it accepted: the kiosks ask for the same few
 * pages over and over, and normalising (decode, split, dot-segments, NIK scan) was ~5% of a
 * cache hit's CPU. Refused paths are not kept, so they throw every time, as before. Bounded by
 * entries and key length; cleared whole when full (a kiosk's working set refills it at once).
 */
export function svcPathMemo(maxEntries = 256, maxKeyLength = 512): (raw: string) => string {
  const memo = new Map<string, string>();
  return (raw) => {
    const known = memo.get(raw);
    if (known !== undefined) return known;
    const path = normalizeSvcPath(raw);
    if (raw.length <= maxKeyLength) {
      if (memo.size >= maxEntries) memo.clear();
      memo.set(raw, path);
    }
    return path;
  };
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;

function percentNormal(s: string, inPath: boolean): string {
  if (!s.includes('%')) return s;
  return s.replace(/%(.{0,2})/gs, (_m, hex: string) => {
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw bad('a malformed % escape');
    const upper = hex.toUpperCase();
    const ch = String.fromCharCode(Number.parseInt(hex, 16));
    if (UNRESERVED.test(ch)) return ch;
    if (inPath && (upper === '2F' || upper === '5C' || upper === '25'))
      throw bad('an encoded /, \\ or % in the path');
    return `%${upper}`;
  });
}

/** RFC 3986 §5.2.4 on an absolute path (starts with `/`, no empty segments left). */
function removeDotSegments(path: string): string {
  const out: string[] = [];
  const segments = path.split('/').slice(1);
  segments.forEach((seg, i) => {
    const last = i === segments.length - 1;
    if (seg === '..') out.pop();
    if (seg === '.' || seg === '..') {
      if (last) out.push('');
    } else out.push(seg);
  });
  return `/${out.join('/')}`;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    // Not UTF-8 after decoding: digits are ASCII and decode alone.
    return s.replace(/%3[0-9]/g, (m) => String.fromCharCode(Number.parseInt(m.slice(1), 16)));
  }
}

function bad(what: string): GwError {
  return new GwError('GW_ERR_VALIDATION', `the /svc path holds ${what}`);
}
