import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/web/build-server.js';
import { memoryLogger } from '../helpers/test-log.js';

let app: FastifyInstance;
let dbOk = true;
beforeAll(async () => {
  app = buildServer({ log: memoryLogger().log, dbOk: () => dbOk });
  // A probe route with a strict schema, to see how the shared error handler answers.
  app.post(
    '/echo',
    {
      schema: {
        body: Type.Object({ n: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ n: Type.Integer() }) },
      },
    },
    async (req) => {
      const { n } = req.body as { n: number };
      if (n === 13) throw new Error('unexpected');
      if (n === 28) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      return { n };
    },
  );
  await app.ready();
});
afterAll(() => app.close());

describe('HTTP skeleton', () => {
  it('GET /healthz is 200 while the database answers, 503 when it does not', async () => {
    expect((await app.inject('/healthz')).statusCode).toBe(200);
    dbOk = false;
    const r = await app.inject('/healthz');
    expect(r.statusCode).toBe(503);
    expect(r.json()).toEqual({ ok: false, db: false, version: expect.any(String) });
    dbOk = true;
  });

  it('answers unknown routes with the JSON error shape and 404', async () => {
    const r = await app.inject('/api/v1/nope');
    expect(r.statusCode).toBe(404);
    expect(r.json()).toEqual({ error: 'GW_ERR_NOT_FOUND', message: expect.any(String) });
  });

  it('refuses bodies over 256 KiB with 413, malformed or wrong bodies with 400, odd media types with 415', async () => {
    const post = (payload: string, type = 'application/json') =>
      app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': type }, payload });
    const big = await post(`{"n":1,"pad":"${'a'.repeat(256 * 1024)}"}`);
    expect(big.statusCode).toBe(413);
    expect(big.json().error).toBe('GW_ERR_BODY_TOO_LARGE');
    for (const body of ['{"n":', '{"n":-1}', '{"n":1,"extra":true}', '[]', 'null', '']) {
      const r = await post(body);
      expect(r.statusCode, body).toBe(400);
      expect(r.json().error).toBe('GW_ERR_VALIDATION');
    }
    const odd = await post('n=1', 'text/x-weird');
    expect(odd.statusCode).toBe(415);
    expect(odd.json().error).toBe('GW_ERR_UNSUPPORTED_MEDIA');
    expect((await post('{"n":7}')).json()).toEqual({ n: 7 });
  });

  it('hides unexpected errors behind a JSON 500 and maps a full disk to 507', async () => {
    const r = await app.inject({ method: 'POST', url: '/echo', payload: { n: 13 } });
    expect(r.statusCode).toBe(500);
    expect(r.json()).toEqual({ error: 'GW_ERR_INTERNAL', message: 'internal error' });
    const full = await app.inject({ method: 'POST', url: '/echo', payload: { n: 28 } });
    expect(full.statusCode).toBe(507);
    expect(full.json().error).toBe('GW_ERR_STORE_FULL');
  });
});
