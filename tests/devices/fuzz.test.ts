import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { auth, type Harness, harness, uuid } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await harness([{ id: 'adm-1', heartbeat_timeout_s: 60 }, { id: 'adm-2' }]);
});
afterAll(() => h.close());

const segment = fc.oneof(
  { arbitrary: fc.constant('adm-1'), weight: 4 },
  fc.constantFrom('adm-1', 'adm-2', 'adm-9', '', '..', '%00', 'ADM-1', 'adm-1%2F..'),
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
);
const path = fc.oneof(
  fc
    .tuple(segment, fc.constantFrom('events', 'heartbeat', 'events/', 'x'))
    .map(([d, k]) => `/api/v1/devices/${d}/${k}`),
  fc.string({ maxLength: 60 }).map((s) => `/api/v1/devices/${encodeURIComponent(s)}`),
);
const authorization = fc.oneof(
  { arbitrary: fc.constant('adm-1').map((id) => auth(id).authorization), weight: 4 },
  fc.constant('adm-2').map((id) => auth(id).authorization),
  fc.string({ maxLength: 80 }).map((s) => `Bearer ${s}`),
  fc.string({ maxLength: 80 }),
  fc.constant(undefined),
);
const contentType = fc.oneof(
  { arbitrary: fc.constant('application/json'), weight: 4 },
  fc.constant('application/json; charset=utf-8'),
  fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data', ''),
  fc.string({ maxLength: 30 }),
);
const nikish = fc.oneof(fc.string(), fc.stringMatching(/^[0-9]{14,18}$/), fc.uuid(), fc.constant('ktp-el'));
const event = fc.record(
  {
    id: fc.oneof(fc.uuid(), fc.constant(uuid()), nikish),
    type: fc.oneof(fc.constant('service_use'), fc.string()),
    service: nikish,
    at: fc.oneof(
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      fc.string(),
    ),
    outcome: fc.oneof(fc.constantFrom('ok', 'failed'), fc.string()),
    duration_ms: fc.oneof(fc.integer(), fc.double(), fc.string()),
    extra: fc.anything(),
  },
  { requiredKeys: ['id'] },
);
const heartbeat = fc.record(
  {
    status: fc.oneof(fc.constantFrom('ok', 'degraded', 'error'), fc.string()),
    app_version: fc.string(),
    uptime_s: fc.oneof(fc.nat(), fc.double()),
    telemetry: fc.dictionary(
      fc.string({ maxLength: 20 }),
      fc.oneof(fc.double(), fc.string(), fc.constantFrom('ok', 'low', 'out')),
    ),
    errors: fc.array(fc.record({ code: fc.string(), message: fc.string() }), { maxLength: 25 }),
  },
  { requiredKeys: [] },
);
const validEvent = fc.record({
  id: fc.uuid(),
  type: fc.constant('service_use'),
  service: fc.constantFrom('ktp-el', 'kartu-keluarga', 'akta-kelahiran', 'surat-pindah'),
});
const body = fc.oneof(
  {
    arbitrary: fc
      .array(validEvent, { minLength: 1, maxLength: 20 })
      .map((events) => JSON.stringify({ events })),
    weight: 3,
  },
  fc.array(event, { minLength: 0, maxLength: 30 }).map((events) => JSON.stringify({ events })),
  heartbeat.map((b) => JSON.stringify(b)),
  {
    arbitrary: fc
      .record(
        {
          status: fc.constantFrom('ok', 'degraded', 'error'),
          uptime_s: fc.nat(),
          telemetry: fc.record({ paper: fc.constantFrom('ok', 'low', 'out'), free_disk_mb: fc.nat() }),
        },
        { requiredKeys: [] },
      )
      .map((b) => JSON.stringify(b)),
    weight: 2,
  },
  fc.json({ maxDepth: 6 }),
  fc.string({ maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
  fc.nat({ max: 5000 }).map((n) => '['.repeat(n)),
  fc.nat({ max: 3000 }).map((n) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`),
  fc.constant(undefined),
);
const extraHeaders = fc.dictionary(
  fc.stringMatching(/^x-[a-z0-9-]{1,20}$/),
  fc.string({ maxLength: 40 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')),
  { maxKeys: 4 },
);

it('random bodies, headers, paths and tokens never yield a 5xx or a crash; memory stays bounded', async () => {
  const seen = new Map<number, number>();
  let sent = 0;
  // Measure live heap, not garbage still waiting for a collection (noisy on a busy box).
  const gc = collector();
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('POST', 'POST', 'POST', 'GET', 'PUT', 'DELETE'),
      path,
      authorization,
      contentType,
      extraHeaders,
      body,
      async (method, url, token, type, extra, payload) => {
        const headers: Record<string, string> = { ...extra, 'content-type': type };
        if (token !== undefined) headers.authorization = token;
        let res: Awaited<ReturnType<typeof h.app.inject>>;
        try {
          // Each request from its own address: the token throttle is tested on its own, and here
          // would turn every later answer into 429.
          res = await h.app.inject({
            method: method as 'POST',
            url,
            headers,
            payload,
            remoteAddress: `10.9.${(++sent >> 8) & 255}.${sent & 255}`,
          });
        } catch (err) {
          // light-my-request refusing to build the request (e.g. an invalid header value) is
          // the client's problem, not the server's.
          expect(String(err)).toMatch(/header|Invalid|URL|character/i);
          return;
        }
        seen.set(res.statusCode, (seen.get(res.statusCode) ?? 0) + 1);
        expect(res.statusCode, `${method} ${url} → ${res.body.slice(0, 200)}`).toBeLessThan(500);
        if (res.statusCode >= 400) {
          const err = res.json() as { error?: unknown; message?: unknown };
          expect(typeof err.error).toBe('string');
          expect(typeof err.message).toBe('string');
        }
      },
    ),
    { numRuns: 2500 },
  );
  gc();
  const growthMb = (process.memoryUsage().heapUsed - heapBefore) / 1048576;
  expect(growthMb).toBeLessThan(64);
  // The generators reached the interesting answers, not only 404s (a 204 needs a valid
  // heartbeat on the right path with the right token: too rare to count on in every run).
  for (const code of [202, 400, 401, 404, 422])
    expect(seen.get(code) ?? 0, `status ${code}`).toBeGreaterThan(0);
  // After all that, a plain heartbeat is still accepted.
  const ok = await h.app.inject({
    method: 'POST',
    url: '/api/v1/devices/adm-1/heartbeat',
    headers: { ...auth('adm-1'), 'content-type': 'application/json' },
    payload: { status: 'ok' },
  });
  expect(ok.statusCode).toBe(204);
  expect(h.store.db.pragma('integrity_check', { simple: true })).toBe('ok');
}, 60_000);

/** A full garbage collection on demand, without starting the test process with --expose-gc. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
