// Conformance cases: request and response Cache-Control directives, stale answers (RFC 9111 5.2,
// 4.2.4; RFC 5861). "Down" is the origin resetting the connection or answering 503.
const STALE_WAIT = 2500;
const CC = (v, extra = {}) => ({ 'cache-control': v, ...extra });
const script = (first, later) => (req, n) => (n === 1 ? { headers: first, body: 'v1' } : later(n, req));
const served = (r, body = 'v1') => r.status === 200 && r.body === body;

/** Stores `headers`, then asks again with `reqHeaders`; returns that answer. */
async function second(t, headers, reqHeaders, { wait = 0, later, first = {} } = {}) {
  t.origin(script(headers, later ?? ((n) => ({ headers, body: `v${n}` }))));
  await t.get(first);
  if (wait) await t.sleep(wait);
  return t.get(reqHeaders);
}

const down = () => 'reset';
const failing = () => ({ status: 503, headers: CC('no-store'), body: 'down' });

export default [
  {
    id: 'req-no-store',
    spec: '9111 5.2.1.5',
    level: 'MUST',
    title: 'request no-store: the answer is not stored',
    async run(t) {
      t.origin((_req, n) => ({ headers: CC('max-age=3600'), body: `v${n}` }));
      await t.get(CC('no-store'));
      await t.get();
      t.expect(t.count() === 2, 'stored');
    },
  },
  {
    id: 'req-no-cache',
    spec: '9111 5.2.1.4',
    level: 'MUST',
    title: 'request no-cache: not answered from the cache without the origin',
    run: async (t) =>
      t.expect(served(await second(t, CC('max-age=3600'), CC('no-cache')), 'v2'), 'served stored copy'),
  },
  {
    id: 'req-pragma-no-cache',
    spec: '9111 5.4',
    level: 'SHOULD',
    title: 'Pragma: no-cache (no Cache-Control): like no-cache',
    run: async (t) =>
      t.expect(
        served(await second(t, CC('max-age=3600'), { pragma: 'no-cache' }), 'v2'),
        'served stored copy',
      ),
  },
  {
    id: 'req-max-age-0',
    spec: '9111 5.2.1.1',
    level: 'MUST',
    title: 'request max-age=0: not answered from the cache',
    run: async (t) =>
      t.expect(served(await second(t, CC('max-age=3600'), CC('max-age=0')), 'v2'), 'served stored copy'),
  },
  {
    id: 'req-max-age-older',
    spec: '9111 5.2.1.1',
    level: 'MUST',
    title: 'request max-age=1 on a 2.5 s old copy: refetched',
    run: async (t) =>
      t.expect(
        served(await second(t, CC('max-age=3600'), CC('max-age=1'), { wait: STALE_WAIT }), 'v2'),
        'served old copy',
      ),
  },
  {
    id: 'req-min-fresh',
    spec: '9111 5.2.1.3',
    level: 'MUST',
    title: 'request min-fresh=3600 on a max-age=60 copy: refetched',
    run: async (t) =>
      t.expect(served(await second(t, CC('max-age=60'), CC('min-fresh=3600')), 'v2'), 'served stored copy'),
  },
  {
    id: 'req-max-stale',
    spec: '9111 5.2.1.2',
    level: 'MAY',
    title: 'request max-stale=3600 on a stale copy: served without the origin',
    async run(t) {
      const r = await second(t, CC('max-age=1'), CC('max-stale=3600'), { wait: STALE_WAIT });
      t.expect(served(r) && t.count() === 1, 'refetched');
    },
  },
  {
    id: 'req-max-stale-must-revalidate',
    spec: '9111 5.2.2.2',
    level: 'MUST',
    title: 'request max-stale on a stale must-revalidate copy: revalidated',
    run: async (t) =>
      t.expect(
        served(
          await second(t, CC('max-age=1, must-revalidate'), CC('max-stale=3600'), { wait: STALE_WAIT }),
          'v2',
        ),
        'served stale',
      ),
  },
  {
    id: 'req-only-if-cached-miss',
    spec: '9111 5.2.1.7',
    level: 'MUST',
    title: 'only-if-cached with nothing stored: 504, origin not asked',
    async run(t) {
      t.origin(() => ({ headers: CC('max-age=3600'), body: 'v1' }));
      const r = await t.get(CC('only-if-cached'));
      t.expect(r.status === 504, `status ${r.status}`);
      t.expect(t.count() === 0, 'origin asked');
    },
  },
  {
    id: 'req-only-if-cached-hit',
    spec: '9111 5.2.1.7',
    level: 'MUST',
    title: 'only-if-cached with a fresh copy: the copy',
    async run(t) {
      const r = await second(t, CC('max-age=3600'), CC('only-if-cached'));
      t.expect(served(r) && t.count() === 1, `status ${r.status}`);
    },
  },
  {
    id: 'req-only-if-cached-stale',
    spec: '9111 5.2.1.7',
    level: 'MUST',
    title: 'only-if-cached with only a stale must-revalidate copy: 504',
    async run(t) {
      const r = await second(t, CC('max-age=1, must-revalidate'), CC('only-if-cached'), { wait: STALE_WAIT });
      t.expect(r.status === 504 && t.count() === 1, `status ${r.status}, origin asked ${t.count()}`);
    },
  },
  {
    id: 'resp-no-store',
    spec: '9111 5.2.2.5',
    level: 'MUST',
    title: 'response no-store: not stored',
    run: async (t) => t.expect(served(await second(t, CC('no-store'), {}), 'v2'), 'stored'),
  },
  {
    id: 'resp-no-cache',
    spec: '9111 5.2.2.4',
    level: 'MUST',
    title: 'response no-cache, max-age=3600: not reused without validation',
    run: async (t) => t.expect(served(await second(t, CC('no-cache, max-age=3600'), {}), 'v2'), 'reused'),
  },
  {
    id: 'resp-no-cache-validates',
    spec: '9111 5.2.2.4',
    level: 'SHOULD',
    title:
      'response no-cache with an ETag: stored and revalidated with If-None-Match (304 → 200 to the client)',
    async run(t) {
      const h = CC('no-cache', { etag: '"e1"' });
      const later = (n, req) =>
        req.headers['if-none-match'] ? { status: 304, headers: h } : { headers: h, body: `v${n}` };
      const r = await second(t, h, {}, { later });
      t.expect(served(r), `client got ${r.status} ${r.body}`);
      t.expect(t.requests()[1]?.headers['if-none-match'] === '"e1"', 'no conditional request');
    },
  },
  {
    id: 'resp-no-cache-field',
    spec: '9111 5.2.2.4',
    level: 'MUST',
    title: 'no-cache="X-Secret": never sent from the cache with X-Secret',
    async run(t) {
      const r = await second(t, CC('max-age=3600, no-cache="x-secret"', { 'x-secret': 's' }), {});
      t.expect(t.count() === 2 || !('x-secret' in r.headers), 'X-Secret reused');
    },
  },
  {
    id: 'resp-private',
    spec: '9111 5.2.2.7',
    level: 'MUST',
    title: 'response private, max-age=3600: a shared cache does not store it',
    run: async (t) => t.expect(served(await second(t, CC('private, max-age=3600'), {}), 'v2'), 'stored'),
  },
  {
    id: 'resp-private-field',
    spec: '9111 5.2.2.7',
    level: 'MUST',
    title: 'private="X-Secret": never reused with X-Secret',
    async run(t) {
      const r = await second(t, CC('max-age=3600, private="x-secret"', { 'x-secret': 's' }), {});
      t.expect(t.count() === 2 || !('x-secret' in r.headers), 'X-Secret reused');
    },
  },
  {
    id: 'auth-max-age',
    spec: '9111 3.5',
    level: 'MUST',
    title: 'request with Authorization, response max-age=3600 only: a shared cache does not reuse it',
    run: async (t) =>
      t.expect(served(await second(t, CC('max-age=3600'), t.auth, { first: t.auth }), 'v2'), 'reused'),
  },
  {
    id: 'auth-public',
    spec: '9111 3.5',
    level: 'MAY',
    title: 'request with Authorization, response public, max-age=3600: reused',
    async run(t) {
      t.expect(
        served(await second(t, CC('public, max-age=3600'), t.auth, { first: t.auth })) && t.count() === 1,
        'not reused',
      );
    },
  },
  {
    id: 'must-revalidate-down',
    spec: '9111 5.2.2.2',
    level: 'MUST',
    title: 'must-revalidate, stale, origin unreachable: an error, not the stale copy',
    run: async (t) => {
      const r = await second(t, CC('max-age=1, must-revalidate'), {}, { wait: STALE_WAIT, later: down });
      t.expect(!served(r), 'served stale');
    },
  },
  {
    id: 'proxy-revalidate-down',
    spec: '9111 5.2.2.8',
    level: 'MUST',
    title: 'proxy-revalidate, stale, origin unreachable: not the stale copy',
    run: async (t) => {
      const r = await second(t, CC('max-age=1, proxy-revalidate'), {}, { wait: STALE_WAIT, later: down });
      t.expect(!served(r), 'served stale');
    },
  },
  {
    id: 's-maxage-down',
    spec: '9111 5.2.2.10',
    level: 'MUST',
    title: 's-maxage=1 (implies proxy-revalidate), stale, origin unreachable: not the stale copy',
    run: async (t) => {
      const r = await second(t, CC('s-maxage=1'), {}, { wait: STALE_WAIT, later: down });
      t.expect(!served(r), 'served stale');
    },
  },
  {
    id: 'stale-on-disconnect',
    spec: '9111 4.2.4',
    level: 'MAY',
    title: 'max-age=1, stale, origin unreachable: the stale copy may be served',
    run: async (t) =>
      t.expect(served(await second(t, CC('max-age=1'), {}, { wait: STALE_WAIT, later: down })), 'error'),
  },
  {
    id: 'stale-if-error-503',
    spec: '5861 4',
    level: 'MAY',
    title: 'stale-if-error=3600, stale, origin 503: the stale copy',
    run: async (t) =>
      t.expect(
        served(
          await second(t, CC('max-age=1, stale-if-error=3600'), {}, { wait: STALE_WAIT, later: failing }),
        ),
        'not served',
      ),
  },
  {
    id: 'stale-if-error-reset',
    spec: '5861 4',
    level: 'MAY',
    title: 'stale-if-error=3600, stale, connection reset: the stale copy',
    run: async (t) =>
      t.expect(
        served(await second(t, CC('max-age=1, stale-if-error=3600'), {}, { wait: STALE_WAIT, later: down })),
        'not served',
      ),
  },
  {
    id: 'stale-while-revalidate',
    spec: '5861 3',
    level: 'MAY',
    title: 'stale-while-revalidate=3600: stale copy at once, refreshed in the background',
    async run(t) {
      const r = await second(t, CC('max-age=1, stale-while-revalidate=3600'), {}, { wait: STALE_WAIT });
      t.expect(served(r), `got ${r.body}`);
      for (let i = 0; i < 20 && t.count() < 2; i++) await t.sleep(100);
      t.expect(t.count() === 2, 'no background revalidation');
    },
  },
  {
    id: 'no-stale-when-connected',
    spec: '9111 4.2.4',
    level: 'MUST',
    title: 'no stale-* directive: a stale copy is never served while the origin answers',
    run: async (t) =>
      t.expect(served(await second(t, CC('max-age=1'), {}, { wait: STALE_WAIT }), 'v2'), 'served stale'),
  },
];
