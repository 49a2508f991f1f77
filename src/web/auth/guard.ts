import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GwError } from '../../core/errors.js';
import type { AuthService, SessionInfo } from './auth-service.js';

export const SESSION_COOKIE = 'kgw_session';
export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the session guard on technician routes. */
    technician: SessionInfo | null;
  }
}

/**
 * Same-origin check for every state-changing request: the browser's Origin must name this
 * very host. Browsers always send Origin on cross-site POSTs, so a missing Origin is
 * accepted only when Sec-Fetch-Site says the request came from this origin.
 */
export function checkOrigin(request: FastifyRequest): void {
  if (SAFE_METHODS.has(request.method)) return;
  const origin = request.headers.origin;
  const host = request.headers.host;
  if (origin === undefined) {
    if (request.headers['sec-fetch-site'] === 'same-origin') return;
    throw new GwError('GW_ERR_FORBIDDEN', 'missing Origin header');
  }
  if (!host || origin !== `${request.protocol}://${host}`) {
    throw new GwError('GW_ERR_FORBIDDEN', 'cross-origin request refused');
  }
}

export function sessionToken(request: FastifyRequest): string | undefined {
  const t = request.cookies[SESSION_COOKIE];
  return t && t.length <= 128 ? t : undefined;
}

/** preHandler of the technician context: a valid session, and CSRF + Origin on state changes. */
export function sessionGuard(auth: AuthService) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const token = sessionToken(request);
    const session = token ? auth.validate(token) : undefined;
    if (!token || !session) throw new GwError('GW_ERR_UNAUTHORIZED');
    request.technician = session;
    if (SAFE_METHODS.has(request.method)) return;
    checkOrigin(request);
    const sent = request.headers[CSRF_HEADER];
    const expected = Buffer.from(auth.csrfFor(token));
    const got = Buffer.from(typeof sent === 'string' ? sent : '');
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
      throw new GwError('GW_ERR_FORBIDDEN', 'missing or wrong CSRF token');
    }
  };
}

export function cookieOptions(request: FastifyRequest, maxAgeS?: number) {
  return {
    httpOnly: true,
    sameSite: 'strict' as const,
    path: '/',
    secure: request.protocol === 'https',
    ...(maxAgeS === undefined ? {} : { maxAge: maxAgeS }),
  };
}
