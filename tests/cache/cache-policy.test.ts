import { describe, expect, it } from 'vitest';
import {
  compileNeverCache,
  freshnessLifetimeS,
  isStorable,
  mayServeStale,
  mergeNotModified,
  parseAge,
  parseCacheControl,
  parseHttpDate,
  requestWantsRevalidation,
  varyKey,
} from '../../src/cache/cache-policy.js';
import { requestDirectives, reuse, staleOnError } from '../../src/cache/reuse-policy.js';

describe('cache policy (RFC 9111, shared cache)', () => {
  it('parses Cache-Control directives case-insensitively, quoted values unwrapped', () => {
    const cc = parseCacheControl('Public, MAX-AGE=60, s-maxage="120", no-cache="set-cookie"');
    expect(cc.get('max-age')).toBe('60');
    expect(cc.get('s-maxage')).toBe('120');
    expect(cc.get('public')).toBe(true);
    expect(cc.has('no-cache')).toBe(true);
  });

  it('freshness: s-maxage over max-age over Expires over ttl_s; no-cache is 0', () => {
    expect(freshnessLifetimeS({ 'cache-control': 'max-age=60, s-maxage=300' }, 10)).toBe(300);
    expect(freshnessLifetimeS({ 'cache-control': 'max-age=60' }, 10)).toBe(60);
    const date = 'Sat, 28 Nov 2026 05:00:00 GMT';
    expect(freshnessLifetimeS({ date, expires: 'Sat, 28 Nov 2026 05:10:00 GMT' }, 10)).toBe(600);
    expect(freshnessLifetimeS({ date, expires: '0' }, 10)).toBe(0);
    expect(freshnessLifetimeS({}, 3600)).toBe(3600);
    expect(freshnessLifetimeS({ 'cache-control': 'no-cache, max-age=60' }, 10)).toBe(0);
    // An invalid max-age is invalid freshness information: stale (RFC 9111 4.2.1), not ttl_s.
    expect(freshnessLifetimeS({ 'cache-control': 'max-age=abc' }, 10)).toBe(0);
  });

  it('never stores no-store, private, Vary: *, or statuses without explicit freshness', () => {
    expect(isStorable(200, {})).toBe(true);
    expect(isStorable(200, { 'cache-control': 'no-store' })).toBe(false);
    expect(isStorable(200, { 'cache-control': 'private, max-age=60' })).toBe(false);
    expect(isStorable(200, { vary: 'Accept, *' })).toBe(false);
    expect(isStorable(404, {})).toBe(false);
    expect(isStorable(404, { 'cache-control': 'max-age=30' })).toBe(true);
    expect(isStorable(201, { 'cache-control': 'max-age=30' })).toBe(false);
    expect(isStorable(206, { 'cache-control': 'max-age=30' })).toBe(false);
  });

  it('stale-if-error: allowed by default, bounded by the directive, refused by must-revalidate & co', () => {
    expect(mayServeStale({}, 86400 * 30)).toBe(true);
    expect(mayServeStale({ 'cache-control': 'max-age=60, stale-if-error=100' }, 99)).toBe(true);
    expect(mayServeStale({ 'cache-control': 'max-age=60, stale-if-error=100' }, 101)).toBe(false);
    for (const cc of ['must-revalidate', 'proxy-revalidate', 's-maxage=5', 'no-cache'])
      expect(mayServeStale({ 'cache-control': cc }, 1)).toBe(false);
    expect(mayServeStale({ 'cache-control': 'must-revalidate, stale-if-error=60' }, 30)).toBe(true);
  });

  it('a 304 updates headers but never the body framing', () => {
    const merged = mergeNotModified(
      {
        etag: '"a"',
        'content-type': 'application/pdf',
        'content-encoding': 'gzip',
        'cache-control': 'max-age=1',
      },
      { etag: '"a"', 'cache-control': 'max-age=60', 'content-encoding': 'identity' },
    );
    expect(merged).toEqual({
      etag: '"a"',
      'content-type': 'application/pdf',
      'content-encoding': 'gzip',
      'cache-control': 'max-age=60',
    });
  });

  it('request revalidation and vary keys', () => {
    expect(requestWantsRevalidation({})).toBe(false);
    expect(requestWantsRevalidation({ 'cache-control': 'no-cache' })).toBe(true);
    expect(requestWantsRevalidation({ 'cache-control': 'max-age=0' })).toBe(true);
    expect(requestWantsRevalidation({ pragma: 'no-cache' })).toBe(true);
    expect(varyKey([], { a: '1' })).toBe('');
    expect(varyKey(['accept-language'], { 'accept-language': ' id,  en ' })).toBe(
      varyKey(['accept-language'], { 'accept-language': 'id, en' }),
    );
  });

  it('never_cache: prefixes and globs (* one segment, ** many)', () => {
    const never = compileNeverCache(['/warga/', '/permohonan/*/status', '/arsip/**.pdf']);
    expect(never('/warga/3510')).toBe(true);
    expect(never('/wargaku')).toBe(false);
    expect(never('/permohonan/12/status')).toBe(true);
    expect(never('/permohonan/12/34/status')).toBe(false);
    expect(never('/arsip/2026/11/surat.pdf')).toBe(true);
    expect(never('/arsip/2026/surat.txt')).toBe(false);
  });

  it('HTTP dates in their three forms only; Age: first member, digits only', () => {
    const t = Date.UTC(1994, 10, 6, 8, 49, 37);
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT')).toBe(t);
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT')).toBe(t);
    expect(parseHttpDate('Sun Nov  6 08:49:37 1994')).toBe(t);
    for (const bad of ['0', '2026', 'Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT', ''])
      expect(parseHttpDate(bad), bad).toBeUndefined();
    expect(parseAge('30')).toBe(30);
    expect(parseAge('30, 60')).toBe(30);
    expect(parseAge('-5')).toBe(0);
    expect(parseAge('1.5')).toBe(0);
    expect(parseAge('99999999999')).toBe(2147483648);
  });

  it('heuristic freshness: 10 % of Date - Last-Modified (at most ttl_s), only for heuristically cacheable statuses', () => {
    const date = 'Sat, 28 Nov 2026 05:00:00 GMT';
    const lm = 'Sat, 28 Nov 2026 04:00:00 GMT';
    expect(freshnessLifetimeS({ date, 'last-modified': lm }, 3600, 200)).toBe(360);
    expect(freshnessLifetimeS({ date, 'last-modified': lm }, 60, 200)).toBe(60);
    expect(freshnessLifetimeS({ date, 'last-modified': lm }, 3600, 404)).toBe(360);
    expect(freshnessLifetimeS({ date, 'last-modified': lm }, 3600, 302)).toBe(0);
    expect(isStorable(404, { 'last-modified': lm })).toBe(true);
    expect(isStorable(302, { 'last-modified': lm })).toBe(false);
    expect(isStorable(302, { 'cache-control': 'max-age=5' })).toBe(true);
    // A `public` response is explicitly cacheable: the heuristic applies whatever its status.
    expect(freshnessLifetimeS({ date, 'last-modified': lm, 'cache-control': 'public' }, 3600, 302)).toBe(360);
    expect(isStorable(302, { 'cache-control': 'public', 'last-modified': lm })).toBe(true);
    expect(isStorable(302, { 'cache-control': 'public' })).toBe(false);
    expect(freshnessLifetimeS({ date, 'cache-control': 'public' }, 3600, 302)).toBe(0);
    // Expires without Date: counted from the response time.
    const resp = Date.parse(date);
    expect(freshnessLifetimeS({ expires: 'Sat, 28 Nov 2026 05:01:00 GMT' }, 10, 200, resp)).toBe(60);
  });

  it('reuse decisions: request directives against the stored response', () => {
    const d = (cc?: string) => requestDirectives(cc === undefined ? {} : { 'cache-control': cc });
    expect(reuse(10, 60, {}, d())).toBe('fresh');
    expect(reuse(60, 60, {}, d())).toBe('validate');
    expect(reuse(10, 60, {}, d('no-cache'))).toBe('validate');
    expect(reuse(10, 60, {}, requestDirectives({ pragma: 'no-cache' }))).toBe('validate');
    expect(reuse(10, 60, {}, d('max-age=5'))).toBe('validate');
    expect(reuse(0, 60, {}, d('max-age=0'))).toBe('validate');
    expect(reuse(0, 60, {}, d('max-age=1'))).toBe('fresh');
    expect(reuse(10, 60, {}, d('min-fresh=55'))).toBe('validate');
    expect(reuse(70, 60, {}, d('max-stale'))).toBe('max-stale');
    expect(reuse(70, 60, {}, d('max-stale=5'))).toBe('validate');
    expect(reuse(70, 60, { 'cache-control': 'must-revalidate' }, d('max-stale'))).toBe('validate');
    expect(reuse(70, 60, { 'cache-control': 'max-age=60, stale-while-revalidate=30' }, d())).toBe(
      'stale-while-revalidate',
    );
    expect(reuse(100, 60, { 'cache-control': 'max-age=60, stale-while-revalidate=30' }, d())).toBe(
      'validate',
    );
  });

  it('stale on error: allowed, labelled, and the serve_stale: always deviation only where RFC forbids', () => {
    const none = requestDirectives({});
    expect(staleOnError({}, 100, none, 'rfc')).toBe('disconnected');
    expect(staleOnError({ 'cache-control': 'no-cache' }, 0, none, 'rfc')).toBeUndefined();
    expect(staleOnError({ 'cache-control': 'must-revalidate' }, 1, none, 'always')).toBe(
      'serve_stale=always',
    );
    expect(staleOnError({ 'cache-control': 'max-age=1, stale-if-error=9' }, 5, none, 'always')).toBe(
      'stale-if-error',
    );
    const sie = requestDirectives({ 'cache-control': 'stale-if-error=10' });
    expect(staleOnError({ 'cache-control': 'max-age=1' }, 5, sie, 'rfc')).toBe('stale-if-error');
  });

  it('vary keys: an absent field differs from an empty one; fields never forwarded count as absent', () => {
    expect(varyKey(['x-foo'], {})).not.toBe(varyKey(['x-foo'], { 'x-foo': '' }));
    expect(varyKey(['cookie'], { cookie: 'a=1' })).toBe(varyKey(['cookie'], {}));
    expect(varyKey(['accept'], { accept: ['a', 'b'] })).toBe(varyKey(['accept'], { accept: 'a,b' }));
  });
});
