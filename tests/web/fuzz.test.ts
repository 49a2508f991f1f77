import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { type Harness, sessionCookie, startHarness } from './harness.js';

/** Random bodies, headers and paths against the auth and technician routes: never a 5xx. */
describe('web routes under malformed input', () => {
  const dir = tempDir('kgw-web-fuzz-');
  let h: Harness;
  let cookie: string;
  let csrf: string;
  beforeAll(async () => {
    h = await startHarness(dir.path);
    const res = await h.app.server.inject({
      method: 'POST',
      url: '/api/v1/setup',
      headers: { origin: h.origin },
      payload: { code: h.setupCode(), name: 'ana', password: 'fuzz-password-1' },
    });
    cookie = sessionCookie(res.headers['set-cookie']);
    csrf = res.json().csrf;
  });
  afterAll(async () => {
    await h.stop();
    dir.cleanup();
  });

  const paths = fc.constantFrom(
    '/api/v1/session',
    '/api/v1/setup',
    '/api/v1/diagnostics/self-check',
    '/api/v1/diagnostics/',
    '/api/v1/actions/x',
    '/api/v1/log',
    '/api/v1/alerts',
    '/api/v1/audit',
    '/api/v1/status',
    '/assets/',
    '/',
  );
  const body = fc.oneof(
    fc.json(),
    fc.string({ maxLength: 300 }),
    fc.record({ name: fc.string(), password: fc.string(), code: fc.string() }, { requiredKeys: [] }),
    fc.record({ args: fc.dictionary(fc.string({ maxLength: 50 }), fc.jsonValue()) }),
  );

  it('answers every request with a status below 500', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'DELETE', 'PUT'),
        paths,
        fc.string({ maxLength: 40 }),
        body,
        fc.boolean(),
        fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded'),
        async (method, path, suffix, payload, authed, type) => {
          const res = await h.app.server.inject({
            method: method as 'GET',
            url: `${path}${encodeURIComponent(suffix).slice(0, 40)}${method === 'GET' ? `?level=${suffix}&limit=${suffix}` : ''}`,
            headers: {
              'content-type': type,
              origin: h.origin,
              'x-csrf-token': authed ? csrf : suffix,
              cookie: authed ? cookie : `kgw_session=${suffix}`,
            },
            payload:
              method === 'GET' ? undefined : typeof payload === 'string' ? payload : JSON.stringify(payload),
          });
          expect(res.statusCode, `${method} ${path}`).toBeLessThan(500);
        },
      ),
      { numRuns: 300 },
    );
  });
});
