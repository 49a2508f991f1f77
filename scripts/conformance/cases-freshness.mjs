// Conformance cases: storing, freshness lifetime, Age/Date/Expires and heuristics (RFC 9111 3, 4.2).
// Each case scripts the origin for its own path (n = the how-manieth request it receives, so the
// body says which answer the client got) and checks what reached the client and the origin.
const STALE_WAIT = 2500; // past a max-age=1, with a second's rounding either side
const ok =
  (body, headers = {}, status = 200) =>
  (_req, n) => ({ status, headers, body: body ?? `v${n}` });
const httpDate = (offsetS) => new Date(Date.now() + offsetS * 1000).toUTCString();

/** The origin answers `headers`; the client asks twice; true when the second came from the cache. */
async function reused(t, headers, { wait = 0, status = 200 } = {}) {
  t.origin((_req, n) => ({
    status,
    headers: typeof headers === 'function' ? headers() : headers,
    body: `v${n}`,
  }));
  await t.get();
  if (wait) await t.sleep(wait);
  const second = await t.get();
  return t.count() === 1 && second.body === 'v1';
}

export default [
  {
    id: 'fresh-max-age',
    spec: '9111 4.2.1',
    level: 'SHOULD',
    title: 'max-age=3600: second GET answered from the cache',
    run: async (t) => t.expect(await reused(t, { 'cache-control': 'max-age=3600' }), 'origin asked twice'),
  },
  {
    id: 'fresh-s-maxage',
    spec: '9111 5.2.2.10',
    level: 'SHOULD',
    title: 's-maxage=3600 alone: reused',
    run: async (t) => t.expect(await reused(t, { 'cache-control': 's-maxage=3600' }), 'origin asked twice'),
  },
  {
    id: 's-maxage-over-max-age',
    spec: '9111 5.2.2.10',
    level: 'MUST',
    title: 'max-age=3600, s-maxage=1: stale for a shared cache after 2 s',
    run: async (t) =>
      t.expect(
        !(await reused(t, { 'cache-control': 'max-age=3600, s-maxage=1' }, { wait: STALE_WAIT })),
        'reused stale',
      ),
  },
  {
    id: 'max-age-0',
    spec: '9111 4.2.1',
    level: 'MUST',
    title: 'max-age=0: not reused without asking the origin',
    run: async (t) => t.expect(!(await reused(t, { 'cache-control': 'max-age=0' })), 'reused'),
  },
  {
    id: 'max-age-expired',
    spec: '9111 4.2.4',
    level: 'MUST',
    title: 'max-age=1, 2.5 s later: not reused while the origin answers',
    run: async (t) =>
      t.expect(!(await reused(t, { 'cache-control': 'max-age=1' }, { wait: STALE_WAIT })), 'served stale'),
  },
  {
    id: 'max-age-invalid',
    spec: '9111 4.2.1',
    level: 'SHOULD',
    title: 'max-age=abc: treated as stale',
    run: async (t) => t.expect(!(await reused(t, { 'cache-control': 'max-age=abc' })), 'reused'),
  },
  {
    id: 'max-age-duplicated',
    spec: '9111 4.2.1',
    level: 'SHOULD',
    title: 'max-age=1, max-age=3600: the first counts (or stale), so stale after 2 s',
    run: async (t) =>
      t.expect(
        !(await reused(t, { 'cache-control': 'max-age=1, max-age=3600' }, { wait: STALE_WAIT })),
        'reused',
      ),
  },
  {
    id: 'expires-future',
    spec: '9111 5.3',
    level: 'SHOULD',
    title: 'Expires an hour after Date: reused',
    run: async (t) => t.expect(await reused(t, () => ({ expires: httpDate(3600) })), 'origin asked twice'),
  },
  {
    id: 'expires-past',
    spec: '9111 5.3',
    level: 'MUST',
    title: 'Expires before Date: not reused',
    run: async (t) => t.expect(!(await reused(t, () => ({ expires: httpDate(-3600) }))), 'reused'),
  },
  {
    id: 'expires-invalid',
    spec: '9111 5.3',
    level: 'MUST',
    title: 'Expires: 0 (invalid): already stale',
    run: async (t) => t.expect(!(await reused(t, { expires: '0' })), 'reused'),
  },
  {
    id: 'expires-duplicated',
    spec: '9111 4.2.1',
    level: 'SHOULD',
    title: 'two Expires fields (past, future): first counts or stale, not reused',
    run: async (t) =>
      t.expect(!(await reused(t, () => ({ expires: [httpDate(-3600), httpDate(3600)] }))), 'reused'),
  },
  {
    id: 'expires-no-date',
    spec: '9111 4.2.1',
    level: 'SHOULD',
    title: 'Expires in an hour and no Date: reused (response time stands in for Date)',
    run: async (t) =>
      t.expect(await reused(t, () => ({ expires: httpDate(3600), date: null })), 'origin asked twice'),
  },
  {
    id: 'max-age-over-expires',
    spec: '9111 5.3',
    level: 'MUST',
    title: 'max-age=3600 with an Expires in the past: max-age wins, reused',
    run: async (t) =>
      t.expect(
        await reused(t, () => ({ 'cache-control': 'max-age=3600', expires: httpDate(-3600) })),
        'not reused',
      ),
  },
  {
    id: 'age-over-lifetime',
    spec: '9111 4.2.3',
    level: 'MUST',
    title: 'max-age=60 with Age: 120: stale on arrival',
    run: async (t) => t.expect(!(await reused(t, { 'cache-control': 'max-age=60', age: '120' })), 'reused'),
  },
  {
    id: 'age-invalid',
    spec: '9111 5.1',
    level: 'SHOULD',
    title: 'Age: abc is ignored: max-age=3600 reused',
    run: async (t) =>
      t.expect(await reused(t, { 'cache-control': 'max-age=3600', age: 'abc' }), 'not reused'),
  },
  {
    id: 'age-list',
    spec: '9111 5.1',
    level: 'SHOULD',
    title: 'Age: 7200, 10: the first member counts, max-age=3600 stale',
    run: async (t) =>
      t.expect(!(await reused(t, { 'cache-control': 'max-age=3600', age: '7200, 10' })), 'reused'),
  },
  {
    id: 'date-apparent-age',
    spec: '9111 4.2.3',
    level: 'MUST',
    title: 'Date an hour old, max-age=600: apparent age makes it stale',
    run: async (t) =>
      t.expect(
        !(await reused(t, () => ({ 'cache-control': 'max-age=600', date: httpDate(-3600) }))),
        'reused',
      ),
  },
  {
    id: 'date-invalid',
    spec: '9110 6.6.1',
    level: 'SHOULD',
    title: 'Date: garbage, max-age=3600: the receipt time stands in, reused',
    run: async (t) =>
      t.expect(await reused(t, { 'cache-control': 'max-age=3600', date: 'garbage' }), 'not reused'),
  },
  {
    id: 'age-generated',
    spec: '9111 5.1',
    level: 'MUST',
    title: 'a stored answer reused after 1.5 s carries Age >= 1',
    async run(t) {
      t.origin(ok(undefined, { 'cache-control': 'max-age=3600' }));
      await t.get();
      await t.sleep(1500);
      const r = await t.get();
      t.expect(t.count() === 1, 'not reused');
      t.expect(Number(r.headers.age) >= 1, `Age: ${r.headers.age}`);
    },
  },
  {
    id: 'heuristic-200',
    spec: '9111 4.2.2',
    level: 'MAY',
    title: '200 with Last-Modified a month old and no freshness: reused heuristically',
    run: async (t) =>
      t.expect(await reused(t, () => ({ 'last-modified': httpDate(-30 * 86400) })), 'not reused'),
  },
  {
    id: 'heuristic-not-302',
    spec: '9111 4.2.2',
    level: 'MUST',
    title: '302 with Last-Modified and no freshness: not heuristically cacheable',
    run: async (t) =>
      t.expect(
        !(await reused(t, () => ({ 'last-modified': httpDate(-30 * 86400), location: '/elsewhere' }), {
          status: 302,
        })),
        'reused',
      ),
  },
  {
    id: 'heuristic-not-403',
    spec: '9111 4.2.2',
    level: 'MUST',
    title: '403 with Last-Modified and no freshness: not heuristically cacheable',
    run: async (t) =>
      t.expect(
        !(await reused(t, () => ({ 'last-modified': httpDate(-30 * 86400) }), { status: 403 })),
        'reused',
      ),
  },
  {
    id: 'public-302-heuristic',
    spec: '9111 4.2.2',
    level: 'MAY',
    title: '302 with public and Last-Modified: explicitly cacheable, reused heuristically',
    run: async (t) =>
      t.expect(
        await reused(
          t,
          () => ({ 'cache-control': 'public', 'last-modified': httpDate(-30 * 86400), location: '/x' }),
          {
            status: 302,
          },
        ),
        'not reused',
      ),
  },
  {
    id: 'explicit-301',
    spec: '9111 3',
    level: 'MAY',
    title: '301 with max-age=3600: reused',
    run: async (t) =>
      t.expect(
        await reused(t, { 'cache-control': 'max-age=3600', location: '/moved' }, { status: 301 }),
        'not reused',
      ),
  },
  {
    id: 'explicit-404',
    spec: '9111 3',
    level: 'MAY',
    title: '404 with max-age=3600: reused',
    run: async (t) =>
      t.expect(await reused(t, { 'cache-control': 'max-age=3600' }, { status: 404 }), 'not reused'),
  },
  {
    id: 'stored-headers-replayed',
    spec: '9111 3',
    level: 'MUST',
    title: "a reused answer keeps the origin's end-to-end fields (X-Origin, Content-Type)",
    async run(t) {
      t.origin(
        ok(undefined, { 'cache-control': 'max-age=3600', 'x-origin': 'o1', 'content-type': 'text/x-conf' }),
      );
      await t.get();
      const r = await t.get();
      t.expect(t.count() === 1, 'not reused');
      t.expect(r.headers['x-origin'] === 'o1' && r.headers['content-type'] === 'text/x-conf', 'fields lost');
    },
  },
  {
    id: 'head-from-get',
    spec: '9110 9.3.2',
    level: 'MAY',
    title: 'HEAD answered from a stored GET',
    async run(t) {
      t.origin(ok(undefined, { 'cache-control': 'max-age=3600', 'x-origin': 'o1' }));
      await t.get();
      const r = await t.get({}, { method: 'HEAD' });
      t.expect(r.status === 200 && r.headers['x-origin'] === 'o1' && r.body === '', `HEAD ${r.status}`);
      t.expect(t.count() === 1, 'origin asked');
    },
  },
];
