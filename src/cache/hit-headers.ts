import { validateHeaderName, validateHeaderValue } from 'node:http';
import { type HeaderMap, reusedHeaders } from './cache-policy.js';
import type { Entry } from './cache-storage.js';
import { appendVia } from './proxy-headers.js';

interface Memo {
  /** The entry's headers object and data date this was built from (a 304 replaces both). */
  from: Entry['headers'];
  dataDate: number;
  size: number;
  ageS: number;
  /** undefined: a stored header node would refuse to write (the general path answers). */
  headers: HeaderMap | undefined;
}

/**
 * The response headers of a fresh hit, built once per entry and per second of Age instead
 * of once per request: the cache-hit path is the kiosks' hottest, and re-assembling the same
 * eight headers (plus an ISO date) for every request was a large share of its CPU. The same
 * headers, in the same order, as the general path (svc-routes sendResult) sends.
 */
export class HitHeaders {
  private readonly memo = new WeakMap<Entry, Memo>();

  /** The headers for this entry at this age; undefined when one of them could not be written. */
  for(entry: Entry, ageS: number): HeaderMap | undefined {
    const m = this.memo.get(entry);
    if (
      m &&
      m.ageS === ageS &&
      m.from === entry.headers &&
      m.dataDate === entry.dataDate &&
      m.size === entry.size
    )
      return m.headers;
    const headers: HeaderMap = {
      ...reusedHeaders(entry.headers),
      via: appendVia(entry.headers.via),
      'x-cache': 'HIT',
      age: String(ageS),
      'x-data-date': isoOf(entry.dataDate),
      'content-length': String(entry.size),
    };
    // What fastify adds to a Buffer reply without a type, so both paths answer alike.
    headers['content-type'] ??= 'application/octet-stream';
    const ok = writable(headers);
    this.memo.set(entry, {
      from: entry.headers,
      dataDate: entry.dataDate,
      size: entry.size,
      ageS,
      headers: ok ? headers : undefined,
    });
    return ok ? headers : undefined;
  }
}

/**
 * Checked once per memo instead of letting writeHead throw after the reply is hijacked (there
 * the error handler could no longer answer). Node checks again when writing; that is cheap.
 */
function writable(headers: HeaderMap): boolean {
  try {
    for (const [k, v] of Object.entries(headers)) {
      validateHeaderName(k);
      validateHeaderValue(k, v);
    }
    return true;
  } catch {
    return false;
  }
}

function isoOf(ms: number): string {
  return new Date(ms).toISOString();
}
