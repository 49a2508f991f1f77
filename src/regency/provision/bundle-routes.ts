import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Clock } from '../../core/clock.js';
import { GwError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { ThrottlePolicy } from '../../store/failure-throttle.js';
import type { LoginThrottle } from '../auth/throttle.js';
import type { BundleCodes } from './bundle-codes.js';

/** Wrong, used or expired codes per address and per village before 429: a person retyping. */
export const BUNDLE_CODE_POLICY: ThrottlePolicy = { max: 5, windowMs: 15 * 60_000 };

/** The files of a bundle as `regency provision` writes them; `ca.pem` with TLS, `client.*` with --cert. */
export const BUNDLE_FILES = ['mqtt.yaml', 'mqtt.secret', 'ca.pem', 'client.pem', 'client.key'] as const;

export interface BundleRoutesDeps {
  codes: BundleCodes;
  /** The login throttle's table, with BUNDLE_CODE_POLICY. */
  throttle: LoginThrottle;
  clock: Clock;
  log: Logger;
}

const Params = Type.Object(
  { code: Type.String({ pattern: '^[0-9]{10}$' }) },
  { additionalProperties: false },
);

/**
 * `GET /api/v1/villages/{code}/bundle` with `Authorization: Bearer <one-time code>`: the
 * village's bundle, once. No account: the code is the credential, so it travels in a header
 * (never the URL, which proxies and logs keep), and wrong, used or expired codes count
 * against the address and the village (5 per 15 minutes, then 429, even for the right code).
 */
export function bundleRoutes(deps: BundleRoutesDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/api/v1/villages/:code/bundle', { schema: { params: Params } }, async (request, reply) => {
      const village = request.params.code;
      const keys = [`bundle-addr:${request.ip}`, `bundle-village:${village}`];
      const now = deps.clock.wallMs();
      if (await deps.throttle.blocked(keys)) {
        await deps.codes.audit(village, 'refused', request.ip, 'throttled', now);
        throw new GwError('GW_ERR_RATE_LIMITED');
      }
      const m = /^Bearer\s+(\S{1,64})$/i.exec(request.headers.authorization ?? '');
      if (!m)
        throw new GwError('GW_ERR_UNAUTHORIZED', 'send the one-time code as Authorization: Bearer CODE');
      const r = await deps.codes.redeem(village, m[1] as string, now, request.ip);
      if (!r.ok) {
        await deps.throttle.fail(keys);
        deps.log.warn({ village, source: request.ip, why: r.why }, 'bundle code refused');
        if (r.why === 'used') throw new GwError('GW_ERR_CODE_USED');
        if (r.why === 'expired') throw new GwError('GW_ERR_CODE_EXPIRED');
        throw new GwError('GW_ERR_UNAUTHORIZED', 'wrong code for this village');
      }
      const files: Record<string, string> = {};
      for (const name of BUNDLE_FILES) {
        const f = join(r.bundleDir, name);
        if (existsSync(f)) files[name] = readFileSync(f, 'utf8');
      }
      if (!files['mqtt.yaml'] || !files['mqtt.secret']) {
        // Revoked or removed since the code was made: the code is spent either way.
        await deps.codes.audit(village, 'refused', request.ip, 'bundle missing', now);
        throw new GwError('GW_ERR_NOT_FOUND', `no bundle for ${village} any more; provision it again`);
      }
      deps.log.info({ village, source: request.ip }, 'bundle fetched with a one-time code');
      reply.header('cache-control', 'no-store');
      return { village, files };
    });
  };
}
