import { describe, expect, it } from 'vitest';
import {
  compileNeverCache,
  freshnessLifetimeS,
  isStorable,
  mayServeStale,
  mergeNotModified,
  parseCacheControl,
  requestWantsRevalidation,
  varyKey,
} from '../../src/cache/cache-policy.js';

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
    expect(freshnessLifetimeS({ 'cache-control': 'max-age=abc' }, 10)).toBe(10);
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
});
