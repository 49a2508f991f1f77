import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { HeaderMap } from './cache-policy.js';
import { type UpstreamClient, UpstreamError } from './upstream-client.js';
import type { UpstreamCredentials } from './upstream-credentials.js';

/** `cache.upstreams[].auth.oauth2`: the OAuth 2.0 client-credentials grant (RFC 6749 §4.4). */
export interface OAuth2Config {
  token_url: string;
  /** `client_id:client_secret`, one line (read by UpstreamCredentials, re-read on change). */
  client_file: string;
  scope?: string | undefined;
}

/** Used when the token answer has no `expires_in` (RFC 6749 leaves it to the server). */
const DEFAULT_LIFETIME_S = 300;
/** Renewed this long before it ends (a tenth of a short lifetime), so no request meets an expired token. */
const RENEW_BEFORE_MS = 60_000;
/** After a failed token request, requests fail fast for this long instead of hammering the server. */
const FAILURE_HOLD_MS = 5_000;
const MAX_TOKEN_ANSWER = 64 * 1024;
const TOKEN_PATTERN = /^[\x21-\x7e]{1,8192}$/;

/**
 * An upstream's access token from its authorization server, kept in memory only (never stored,
 * never logged) and renewed before it expires; one token request at a time however many kiosks
 * ask. A 401 from the upstream drops the token so the next request fetches a new one. The
 * client secret goes in HTTP Basic (client_secret_basic, RFC 6749 §2.3.1), never in a URL.
 * Called only when the gateway is about to call the upstream, so a link that is down never
 * waits on the token server: reads are answered from the cache before this is reached.
 */
export class OAuth2TokenSource {
  private readonly config: OAuth2Config;
  private readonly client: UpstreamClient;
  private readonly secret: UpstreamCredentials;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly timeoutMs: number;
  private token: { value: string; renewAtMono: number; expiresAtMono: number } | undefined;
  private pending: Promise<string> | undefined;
  private failedUntilMono = Number.NEGATIVE_INFINITY;
  private lastError = '';

  constructor(deps: {
    config: OAuth2Config;
    client: UpstreamClient;
    secret: UpstreamCredentials;
    clock: Clock;
    log: Logger;
    timeoutMs: number;
  }) {
    this.config = deps.config;
    this.client = deps.client;
    this.secret = deps.secret;
    this.clock = deps.clock;
    this.log = deps.log;
    this.timeoutMs = deps.timeoutMs;
  }

  /** `Authorization: Bearer <token>`; throws UpstreamError('unreachable') when no token can be had. */
  async headers(): Promise<HeaderMap> {
    return { authorization: `Bearer ${await this.current()}` };
  }

  /** The upstream answered 401: the token was revoked or rotated early; fetch a new one next time. */
  rejected(): void {
    this.token = undefined;
  }

  /** Reads the client file now (start, SIGHUP) and drops the token so a new secret applies at once. */
  check(): boolean {
    this.token = undefined;
    this.failedUntilMono = Number.NEGATIVE_INFINITY;
    return this.secret.check();
  }

  /** The token server's host only: a query string or path could carry something secret. */
  private host(): string {
    try {
      return new URL(this.config.token_url).host;
    } catch {
      return '(invalid URL)';
    }
  }

  private async current(): Promise<string> {
    const now = this.clock.monoMs();
    const t = this.token;
    if (t && now < t.renewAtMono) return t.value;
    // Renewal runs while the old token is still good: a failed renewal keeps it until it ends.
    const renewal = this.pending ?? this.renew(now);
    if (t && now < t.expiresAtMono) {
      renewal.catch(() => undefined);
      return t.value;
    }
    return renewal;
  }

  private renew(now: number): Promise<string> {
    if (now < this.failedUntilMono)
      return Promise.reject(new UpstreamError('unreachable', false, `oauth2 token: ${this.lastError}`));
    const p = this.fetchToken().finally(() => {
      if (this.pending === p) this.pending = undefined;
    });
    this.pending = p;
    return p;
  }

  private async fetchToken(): Promise<string> {
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (this.config.scope) form.set('scope', this.config.scope);
    const body = Buffer.from(form.toString());
    const sentAt = this.clock.monoMs();
    try {
      const res = await this.client.request({
        url: new URL(this.config.token_url),
        method: 'POST',
        headers: {
          ...this.secret.headers(),
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': String(body.length),
          accept: 'application/json',
        },
        body,
        timeoutMs: this.timeoutMs,
      });
      // The answer's body is never logged: a misconfigured server may echo the secret.
      if (res.status !== 200)
        throw new UpstreamError('unreachable', false, `token server answered ${res.status}`);
      const { value, lifetimeS } = parseTokenAnswer(res.body);
      const lifetimeMs = lifetimeS * 1000;
      this.token = {
        value,
        expiresAtMono: sentAt + lifetimeMs,
        renewAtMono: sentAt + lifetimeMs - Math.min(RENEW_BEFORE_MS, lifetimeMs * 0.1),
      };
      if (this.lastError) this.log.info({ token_host: this.host() }, 'oauth2 token obtained again');
      this.lastError = '';
      return value;
    } catch (err) {
      const why = err instanceof UpstreamError ? err.message : 'token request failed';
      this.failedUntilMono = this.clock.monoMs() + FAILURE_HOLD_MS;
      if (why !== this.lastError)
        this.log.warn({ token_host: this.host(), why }, 'oauth2 token not obtained');
      this.lastError = why;
      throw err instanceof UpstreamError
        ? err
        : new UpstreamError('unreachable', false, `oauth2 token: ${why}`);
    }
  }
}

/** `{"access_token": "...", "token_type": "Bearer", "expires_in": 3600}` (RFC 6749 §5.1). */
export function parseTokenAnswer(body: Buffer): { value: string; lifetimeS: number } {
  if (body.length > MAX_TOKEN_ANSWER) throw new UpstreamError('unreachable', false, 'token answer too large');
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    throw new UpstreamError('unreachable', false, 'token answer is not JSON');
  }
  const o = (doc !== null && typeof doc === 'object' && !Array.isArray(doc) ? doc : {}) as Record<
    string,
    unknown
  >;
  const value = o.access_token;
  if (typeof value !== 'string' || !TOKEN_PATTERN.test(value))
    throw new UpstreamError('unreachable', false, 'token answer has no usable access_token');
  if (
    o.token_type !== undefined &&
    (typeof o.token_type !== 'string' || o.token_type.toLowerCase() !== 'bearer')
  )
    throw new UpstreamError('unreachable', false, 'token answer is not a Bearer token');
  const exp = o.expires_in;
  const lifetimeS =
    typeof exp === 'number' && Number.isFinite(exp) && exp > 0
      ? Math.min(exp, 86_400)
      : typeof exp === 'string' && /^\d{1,6}$/.test(exp) && Number(exp) > 0
        ? Math.min(Number(exp), 86_400)
        : DEFAULT_LIFETIME_S;
  return { value, lifetimeS };
}
