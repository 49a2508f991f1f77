import type { IncomingHttpHeaders } from 'node:http';
import type { HeaderMap } from './cache-policy.js';

/** What the gateway adds to Via, both ways (RFC 9110 7.6.3): protocol and a pseudonym, no host name. */
export const VIA = '1.1 kampung-gw';

/** Hop-by-hop fields (RFC 9110 7.6.1), plus Proxy-Connection, which old clients still send. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
]);

/**
 * Request fields that are the gateway's, not the upstream's: the kiosk's own credentials (the
 * upstream gets the gateway's, from auth.*_file), the framing node computes again, and Host.
 */
const KIOSK_ONLY = new Set(['authorization', 'cookie', 'host', 'content-length', 'expect', 'via']);

/**
 * Fields a cached read never forwards: the cache answers conditionals and ranges itself from
 * a complete stored response (it asks the upstream with its own validators), so the upstream
 * must send the whole representation.
 */
export const READ_ONLY_HERE = new Set([
  'if-none-match',
  'if-modified-since',
  'if-match',
  'if-unmodified-since',
  'if-range',
  'range',
]);

/** The field names a message's Connection header declares hop-by-hop. */
function connectionTokens(value: string | string[] | undefined): Set<string> {
  const out = new Set<string>();
  if (value === undefined) return out;
  for (const t of (Array.isArray(value) ? value.join(',') : value).split(','))
    if (t.trim()) out.add(t.trim().toLowerCase());
  return out;
}

function dropped(name: string, named: ReadonlySet<string>): boolean {
  return HOP_BY_HOP.has(name) || name.startsWith('proxy-') || named.has(name) || name.startsWith(':');
}

/**
 * A kiosk request's end-to-end fields as they go upstream: every field except hop-by-hop ones
 * (and those its Connection names), Proxy-*, Authorization, Cookie and framing; Via appended.
 * `read`: also without conditionals and Range (see READ_ONLY_HERE).
 */
export function forwardHeaders(request: IncomingHttpHeaders, read = false): HeaderMap {
  const named = connectionTokens(request.connection);
  const out: HeaderMap = {};
  for (const [k, v] of Object.entries(request)) {
    if (v === undefined || dropped(k, named) || KIOSK_ONLY.has(k) || (read && READ_ONLY_HERE.has(k)))
      continue;
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  out.via = appendVia(request.via);
  return out;
}

/**
 * An upstream response's fields as stored and relayed: as received, minus hop-by-hop ones,
 * Proxy-*, Content-Length (the gateway frames the body itself) and Set-Cookie (a cookie set on
 * the gateway's origin would reach the technician page and every kiosk sharing the box).
 */
export function relayableHeaders(raw: IncomingHttpHeaders): HeaderMap {
  const named = connectionTokens(raw.connection);
  const out: HeaderMap = {};
  for (const [k, v] of Object.entries(raw)) {
    if (v === undefined || dropped(k, named) || k === 'set-cookie' || k === 'content-length') continue;
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/** Via with the gateway appended (RFC 9110 7.6.3: each intermediary appends its own entry). */
export function appendVia(existing: string | string[] | undefined): string {
  const v = Array.isArray(existing) ? existing.join(', ') : existing;
  return v ? `${v}, ${VIA}` : VIA;
}

/**
 * Request fields a stored response's Vary can never have seen, because they were not
 * forwarded: the cache matches them as absent (RFC 9111 4.1), whatever the kiosk sent.
 */
export function forwardedOnRead(name: string): boolean {
  return !(
    HOP_BY_HOP.has(name) ||
    name.startsWith('proxy-') ||
    KIOSK_ONLY.has(name) ||
    READ_ONLY_HERE.has(name)
  );
}
