import {
  type Directives,
  deltaSeconds,
  forbidsStale,
  type HeaderMap,
  mayServeStale,
  parseCacheControl,
} from './cache-policy.js';

/** The kiosk's cache-related request fields, parsed once per request (RFC 9111 5.2.1). */
export interface RequestDirectives {
  /** no-cache, or Pragma: no-cache without Cache-Control (5.4). */
  noCache: boolean;
  noStore: boolean;
  onlyIfCached: boolean;
  maxAge: number | undefined;
  /** true: any staleness; a number: at most that many seconds. */
  maxStale: number | true | undefined;
  minFresh: number | undefined;
  /** RFC 5861 stale-if-error in the request. */
  staleIfError: number | undefined;
}

export const NO_DIRECTIVES: RequestDirectives = {
  noCache: false,
  noStore: false,
  onlyIfCached: false,
  maxAge: undefined,
  maxStale: undefined,
  minFresh: undefined,
  staleIfError: undefined,
};

type RequestFields = Readonly<Record<string, string | string[] | undefined>>;

const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join(', ') : v);

export function requestDirectives(request: RequestFields): RequestDirectives {
  const raw = one(request['cache-control']);
  const pragma = one(request.pragma);
  if (raw === undefined && pragma === undefined) return NO_DIRECTIVES;
  const cc = parseCacheControl(raw);
  // An invalid max-age / min-fresh value asks for nothing cached (the stricter reading).
  const strictly = (name: string) => (cc.has(name) ? (deltaSeconds(cc.get(name)) ?? 0) : undefined);
  const ms = cc.get('max-stale');
  return {
    noCache: cc.has('no-cache') || (raw === undefined && /no-cache/i.test(pragma ?? '')),
    noStore: cc.has('no-store'),
    onlyIfCached: cc.has('only-if-cached'),
    maxAge: strictly('max-age'),
    maxStale: ms === undefined ? undefined : ms === true ? true : (deltaSeconds(ms) ?? 0),
    minFresh: strictly('min-fresh'),
    staleIfError: deltaSeconds(cc.get('stale-if-error')),
  };
}

/**
 * What a stored response is good for, for this request, without asking the upstream:
 * - `fresh`: serve it (HIT);
 * - `max-stale`: stale, but the kiosk said it accepts that much staleness (STALE);
 * - `stale-while-revalidate`: stale within the response's RFC 5861 window: serve it (STALE)
 *   and revalidate in the background;
 * - `validate`: ask the upstream first.
 * Stale reuse is never chosen where the response forbids it (must-revalidate & co, 4.2.4).
 */
export type Reuse = 'fresh' | 'max-stale' | 'stale-while-revalidate' | 'validate';

export function reuse(
  ageS: number,
  lifetimeS: number,
  response: HeaderMap,
  req: RequestDirectives,
  cc: Directives = parseCacheControl(response['cache-control']),
): Reuse {
  if (req.noCache) return 'validate';
  // Ages are whole seconds, rounded down, but a stored response is always some time old: a
  // copy stored this second has age 0, and `max-age=0` (a reload) must still reach the upstream.
  if (req.maxAge !== undefined && (ageS > req.maxAge || req.maxAge === 0)) return 'validate';
  if (req.minFresh !== undefined && lifetimeS - ageS < req.minFresh) return 'validate';
  if (lifetimeS > ageS) return 'fresh';
  if (forbidsStale(cc)) return 'validate';
  const staleness = ageS - lifetimeS;
  if (req.maxStale !== undefined && (req.maxStale === true || staleness <= req.maxStale)) return 'max-stale';
  const swr = deltaSeconds(cc.get('stale-while-revalidate'));
  if (swr !== undefined && staleness <= swr && !req.onlyIfCached) return 'stale-while-revalidate';
  return 'validate';
}

/** Why a stale copy is served after the upstream failed, or undefined when it may not be. */
export type StaleReason = 'disconnected' | 'stale-if-error' | 'serve_stale=always';

export function staleOnError(
  response: HeaderMap,
  stalenessS: number,
  req: RequestDirectives,
  mode: 'rfc' | 'always',
): StaleReason | undefined {
  if (mayServeStale(response, stalenessS, req.staleIfError)) {
    const cc = parseCacheControl(response['cache-control']);
    return cc.has('stale-if-error') || req.staleIfError !== undefined ? 'stale-if-error' : 'disconnected';
  }
  return mode === 'always' ? 'serve_stale=always' : undefined;
}
