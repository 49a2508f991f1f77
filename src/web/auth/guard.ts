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

/** The session cookie's value (base64url only; anything else is no session). */
export function sessionToken(request: FastifyRequest, cookieName = SESSION_COOKIE): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === cookieName) {
      const value = part.slice(eq + 1).trim();
      return /^[A-Za-z0-9_-]{1,128}$/.test(value) ? value : undefined;
    }
  }
  return undefined;
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
    checkCsrf(request, auth, token);
  };
}

/** The X-CSRF-Token header must equal the session's token (constant-time compare). */
export function checkCsrf(
  request: FastifyRequest,
  auth: Pick<AuthService, 'csrfFor'>,
  sessionTokenValue: string,
): void {
  const sent = request.headers[CSRF_HEADER];
  const expected = Buffer.from(auth.csrfFor(sessionTokenValue));
  const got = Buffer.from(typeof sent === 'string' ? sent : '');
  if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
    throw new GwError('GW_ERR_FORBIDDEN', 'missing or wrong CSRF token');
  }
}

/**
 * The Set-Cookie value: HttpOnly, SameSite=Strict, Path=/, and Secure when the request came
 * over TLS. No expiry: a browser session cookie; the server decides when the session ends.
 * Written by hand (one fixed cookie) rather than with a cookie plugin, for the memory budget.
 * The regency page names its own cookie: cookies ignore ports, so a gateway and a regency on
 * one host would otherwise log each other out.
 */
export function sessionCookie(
  request: FastifyRequest,
  token: string | null,
  cookieName = SESSION_COOKIE,
): string {
  const attrs = ['Path=/', 'HttpOnly', 'SameSite=Strict'];
  if (request.protocol === 'https') attrs.push('Secure');
  if (token === null) attrs.push('Max-Age=0', 'Expires=Thu, 01 Jan 1970 00:00:00 GMT');
  return [`${cookieName}=${token ?? ''}`, ...attrs].join('; ');
}
