// Conformance cases: Vary, validation and 304s, invalidation by unsafe methods, the client's
// conditionals and ranges, hop-by-hop fields and Via (RFC 9111 4.1, 4.3, 4.4; RFC 9110 7.6, 13, 14).
const CC = (v, extra = {}) => ({ 'cache-control': v, ...extra });
const STALE_WAIT = 2500;
const LM = 'Mon, 01 Jan 2024 00:00:00 GMT';
/** A 304 only to a conditional request (an unconditional one gets the full answer, body `v<n>`). */
const validated = (req, n, headers) =>
  req.headers['if-none-match'] || req.headers['if-modified-since']
    ? { status: 304, headers }
    : { headers, body: `v${n}` };
const fresh =
  (extra = {}) =>
  (_req, n) => ({ headers: CC('max-age=3600', extra), body: `v${n}` });

/** GET with h1 then h2; returns how often the origin was asked. */
async function twoVariants(t, vary, h1, h2) {
  t.origin(fresh({ vary }));
  await t.get(h1);
  await t.get(h2);
  return t.count();
}

/** Stores a fresh copy, sends `method` to `path` (answered `answer`), then GETs `path` again. */
async function invalidates(t, method, answer = {}, suffix = '') {
  t.origin((req, n) => (req.method === 'GET' ? { headers: CC('max-age=3600'), body: `g${n}` } : answer));
  await t.get({}, { suffix });
  const w = await t.get({}, { method, body: 'x' });
  const r = await t.get({}, { suffix });
  t.expect(t.count('GET') === 2 && r.body !== 'g1', `${method} answered ${w.status}, then the old copy`);
  return true;
}

export default [
  {
    id: 'vary-same',
    spec: '9111 4.1',
    level: 'SHOULD',
    title: 'Vary: X-Variant, same value: reused',
    run: async (t) =>
      t.expect(
        (await twoVariants(t, 'x-variant', { 'x-variant': 'a' }, { 'x-variant': 'a' })) === 1,
        'not reused',
      ),
  },
  {
    id: 'vary-different',
    spec: '9111 4.1',
    level: 'MUST',
    title: 'Vary: X-Variant, another value: not reused',
    run: async (t) =>
      t.expect(
        (await twoVariants(t, 'x-variant', { 'x-variant': 'a' }, { 'x-variant': 'b' })) === 2,
        'wrong variant',
      ),
  },
  {
    id: 'vary-absent',
    spec: '9111 4.1',
    level: 'MUST',
    title: 'Vary: X-Variant, stored without it, asked with it: not reused',
    run: async (t) =>
      t.expect((await twoVariants(t, 'x-variant', {}, { 'x-variant': 'a' })) === 2, 'wrong variant'),
  },
  {
    id: 'vary-two-fields',
    spec: '9111 4.1',
    level: 'MUST',
    title: 'Vary: X-A, X-B, second field differs: not reused',
    run: async (t) =>
      t.expect(
        (await twoVariants(t, 'x-a, x-b', { 'x-a': '1', 'x-b': '1' }, { 'x-a': '1', 'x-b': '2' })) === 2,
        'wrong variant',
      ),
  },
  {
    id: 'vary-star',
    spec: '9111 4.1',
    level: 'MUST',
    title: 'Vary: * never matches',
    run: async (t) => t.expect((await twoVariants(t, '*', {}, {})) === 2, 'reused'),
  },
  {
    id: 'revalidate-etag',
    spec: '9111 4.3.1',
    level: 'SHOULD',
    title: 'stale copy with ETag: revalidated with If-None-Match, 304 → stored body',
    async run(t) {
      const h = CC('max-age=1', { etag: '"e1"' });
      t.origin((req, n) => validated(req, n, h));
      await t.get();
      await t.sleep(STALE_WAIT);
      const r = await t.get();
      t.expect(t.requests()[1]?.headers['if-none-match'] === '"e1"', 'no If-None-Match');
      t.expect(r.status === 200 && r.body === 'v1', `client got ${r.status}`);
    },
  },
  {
    id: 'revalidate-last-modified',
    spec: '9111 4.3.1',
    level: 'SHOULD',
    title: 'stale copy with Last-Modified: revalidated with If-Modified-Since',
    async run(t) {
      const h = CC('max-age=1', { 'last-modified': LM });
      t.origin((req, n) => validated(req, n, h));
      await t.get();
      await t.sleep(STALE_WAIT);
      const r = await t.get();
      t.expect(Boolean(t.requests()[1]?.headers['if-modified-since']), 'no If-Modified-Since');
      t.expect(r.status === 200 && r.body === 'v1', `client got ${r.status}`);
    },
  },
  {
    id: '304-updates-headers',
    spec: '9111 4.3.4',
    level: 'MUST',
    title: 'a 304 updates the stored fields (X-Rev, freshness): later hits carry them',
    async run(t) {
      t.origin((req, n) =>
        n === 1
          ? { headers: CC('max-age=1', { etag: '"e1"', 'x-rev': '1' }), body: 'v1' }
          : validated(req, n, CC('max-age=3600', { etag: '"e1"', 'x-rev': String(n) })),
      );
      await t.get();
      await t.sleep(STALE_WAIT);
      const a = await t.get();
      const b = await t.get();
      t.expect(a.headers['x-rev'] === '2' && a.body === 'v1', `after 304: X-Rev ${a.headers['x-rev']}`);
      t.expect(
        b.headers['x-rev'] === '2' && t.count() === 2,
        `next hit: X-Rev ${b.headers['x-rev']}, origin ${t.count()}`,
      );
    },
  },
  {
    id: 'client-inm-304',
    spec: '9111 4.3.2',
    level: 'SHOULD',
    title: 'client If-None-Match matching a fresh copy: 304 from the cache',
    async run(t) {
      t.origin(fresh({ etag: '"e1"' }));
      await t.get();
      const r = await t.get({ 'if-none-match': '"e1"' });
      t.expect(r.status === 304 && t.count() === 1, `status ${r.status}, origin ${t.count()}`);
    },
  },
  {
    id: 'client-ims-304',
    spec: '9111 4.3.2',
    level: 'SHOULD',
    title: 'client If-Modified-Since = Last-Modified of a fresh copy: 304 from the cache',
    async run(t) {
      t.origin(fresh({ 'last-modified': LM }));
      await t.get();
      const r = await t.get({ 'if-modified-since': LM });
      t.expect(r.status === 304 && t.count() === 1, `status ${r.status}, origin ${t.count()}`);
    },
  },
  {
    id: 'client-inm-mismatch',
    spec: '9111 4.3.2',
    level: 'MUST',
    title: 'client If-None-Match not matching: a full 200 (from the cache or the origin)',
    async run(t) {
      t.origin(fresh({ etag: '"e1"' }));
      await t.get();
      const r = await t.get({ 'if-none-match': '"other"' });
      t.expect(r.status === 200 && /^v\d$/.test(r.body), `status ${r.status}`);
    },
  },
  {
    id: 'post-invalidates',
    spec: '9111 4.4',
    level: 'MUST',
    title: 'a 200 to POST invalidates the stored GET',
    run: async (t) => t.expect(await invalidates(t, 'POST', { body: 'ok' }), 'unreachable'),
  },
  {
    id: 'put-invalidates',
    spec: '9111 4.4',
    level: 'MUST',
    title: 'a 204 to PUT invalidates the stored GET',
    run: async (t) => t.expect(await invalidates(t, 'PUT', { status: 204 }), 'unreachable'),
  },
  {
    id: 'delete-invalidates',
    spec: '9111 4.4',
    level: 'MUST',
    title: 'a 200 to DELETE invalidates the stored GET',
    run: async (t) => t.expect(await invalidates(t, 'DELETE', { body: 'gone' }), 'unreachable'),
  },
  {
    id: 'post-invalidates-location',
    spec: '9111 4.4',
    level: 'MAY',
    title: 'a 201 to POST with Location (same origin) invalidates that URI',
    run: async (t) =>
      t.expect(
        await invalidates(t, 'POST', { status: 201, headers: { location: `${t.path}/item` } }, '/item'),
        'unreachable',
      ),
  },
  {
    id: 'post-invalidates-content-location',
    spec: '9111 4.4',
    level: 'MAY',
    title: 'a 200 to POST with Content-Location (same origin) invalidates that URI',
    run: async (t) =>
      t.expect(
        await invalidates(
          t,
          'POST',
          { headers: { 'content-location': `${t.path}/doc` }, body: 'ok' },
          '/doc',
        ),
        'unreachable',
      ),
  },
  {
    id: 'range-from-stored',
    spec: '9110 14.2',
    level: 'MAY',
    title: 'Range: bytes=0-9 on a stored 100-byte body: 206 with 10 bytes, origin not asked',
    async run(t) {
      t.origin(() => ({ headers: CC('max-age=3600'), body: '0123456789'.repeat(10) }));
      await t.get();
      const r = await t.get({ range: 'bytes=0-9' });
      t.expect(r.status === 206 && r.body === '0123456789', `status ${r.status}, ${r.body.length} bytes`);
      t.expect(t.count() === 1, 'origin asked');
      t.expect(r.headers['content-range'] === 'bytes 0-9/100', `Content-Range ${r.headers['content-range']}`);
    },
  },
  {
    id: 'range-suffix',
    spec: '9110 14.1.2',
    level: 'MAY',
    title: 'Range: bytes=-5 on a stored body: 206 with the last 5 bytes',
    async run(t) {
      t.origin(() => ({ headers: CC('max-age=3600'), body: 'abcdefghij' }));
      await t.get();
      const r = await t.get({ range: 'bytes=-5' });
      t.expect(
        r.status === 206 && r.body === 'fghij' && t.count() === 1,
        `status ${r.status}, origin ${t.count()}`,
      );
    },
  },
  {
    id: 'hop-request',
    spec: '9110 7.6.1',
    level: 'MUST',
    title: 'Connection: x-hop and X-Hop from the client do not reach the origin; X-End does',
    async run(t) {
      t.origin(() => ({ headers: CC('no-store'), body: 'v' }));
      await t.get({ connection: 'x-hop', 'x-hop': '1', 'x-end': '1' });
      const h = t.requests()[0]?.headers ?? {};
      t.expect(!('x-hop' in h), 'X-Hop forwarded');
      t.expect(h['x-end'] === '1', 'X-End lost');
    },
  },
  {
    id: 'hop-response',
    spec: '9110 7.6.1',
    level: 'MUST',
    title: 'Connection: x-hop and X-Hop from the origin do not reach the client (miss and hit)',
    async run(t) {
      t.origin(() => ({
        headers: CC('max-age=3600', { connection: 'x-hop', 'x-hop': '1', 'keep-alive': 'timeout=5' }),
        body: 'v',
      }));
      const a = await t.get();
      const b = await t.get();
      t.expect(!('x-hop' in a.headers) && !('x-hop' in b.headers), 'X-Hop relayed');
    },
  },
  {
    id: 'via-request',
    spec: '9110 7.6.3',
    level: 'MUST',
    title: 'the request to the origin carries Via',
    async run(t) {
      t.origin(() => ({ headers: CC('no-store'), body: 'v' }));
      await t.get();
      t.expect(Boolean(t.requests()[0]?.headers.via), 'no Via');
    },
  },
  {
    id: 'via-response',
    spec: '9110 7.6.3',
    level: 'MAY',
    title: 'the answer to the client carries Via',
    async run(t) {
      t.origin(() => ({ headers: CC('no-store'), body: 'v' }));
      t.expect(Boolean((await t.get()).headers.via), 'no Via');
    },
  },
];
