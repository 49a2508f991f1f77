import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { Scheduler } from '../core/scheduler.js';
import type { HeaderMap } from './cache-policy.js';

export type UpstreamFailure = 'timeout' | 'unreachable' | 'too_large';

/** The upstream gave no usable answer. `sent` = the request may have reached it (writes: ambiguous). */
export class UpstreamError extends Error {
  readonly kind: UpstreamFailure;
  readonly sent: boolean;
  constructor(kind: UpstreamFailure, sent: boolean, message: string) {
    super(message);
    this.name = 'UpstreamError';
    this.kind = kind;
    this.sent = sent;
  }
}

export interface UpstreamResponse {
  status: number;
  headers: HeaderMap;
  body: Buffer;
}

export interface UpstreamRequest {
  url: URL;
  method: string;
  headers: HeaderMap;
  body?: Buffer;
  /** Deadline for connect + response headers: a dead upstream never holds a kiosk longer. */
  timeoutMs: number;
}

/** Hop-by-hop and per-connection headers never relayed (RFC 9110 7.6.1), plus cookies. */
const DROP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'set-cookie',
  // Bodies are buffered whole; the gateway sets its own length.
  'content-length',
]);

export function relayableHeaders(raw: IncomingHttpHeaders): HeaderMap {
  const out: HeaderMap = {};
  const connectionTokens = String(raw.connection ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase());
  for (const [k, v] of Object.entries(raw)) {
    if (v === undefined || DROP.has(k) || connectionTokens.includes(k)) continue;
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/**
 * A small HTTP client on node:http (not fetch: bodies are relayed byte for byte, never
 * decompressed). Keep-alive pools per protocol; the deadline timer belongs to the scheduler.
 */
export class UpstreamClient {
  private readonly scheduler: Scheduler;
  private readonly maxBodyBytes: number;
  private readonly agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: 16, keepAliveMsecs: 1000 }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: 16, keepAliveMsecs: 1000 }),
  };

  constructor(deps: { scheduler: Scheduler; maxBodyBytes: number }) {
    this.scheduler = deps.scheduler;
    this.maxBodyBytes = deps.maxBodyBytes;
  }

  async request(req: UpstreamRequest): Promise<UpstreamResponse> {
    try {
      return await this.once(req);
    } catch (err) {
      // A pooled keep-alive socket the upstream closed meanwhile: retry once on a new one,
      // but only for reads; a write's retry is the delivery queue's decision.
      const reused = (err as { reusedSocket?: boolean }).reusedSocket;
      if (reused && (req.method === 'GET' || req.method === 'HEAD')) return this.once(req);
      throw err;
    }
  }

  destroy(): void {
    this.agents['http:'].destroy();
    this.agents['https:'].destroy();
  }

  private once(r: UpstreamRequest): Promise<UpstreamResponse> {
    const mod = r.url.protocol === 'https:' ? https : http;
    const agent = this.agents[r.url.protocol === 'https:' ? 'https:' : 'http:'];
    return new Promise<UpstreamResponse>((resolve, reject) => {
      let sent = false;
      let settled = false;
      const fail = (err: UpstreamError, extra?: { reusedSocket: boolean }) => {
        if (settled) return;
        settled = true;
        deadline.cancel();
        reject(Object.assign(err, extra));
      };
      const headers: Record<string, string | number> = { ...r.headers };
      if (r.body) headers['content-length'] = r.body.length;
      const req = mod.request(r.url, { method: r.method, headers, agent });
      let deadline = this.scheduler.after('upstream-timeout', r.timeoutMs, () => {
        fail(new UpstreamError('timeout', sent, `no answer within ${r.timeoutMs} ms`));
        req.destroy();
      });
      req.on('finish', () => {
        sent = true;
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        fail(new UpstreamError('unreachable', sent, err.code ?? err.message), {
          reusedSocket: req.reusedSocket && err.code === 'ECONNRESET',
        });
      });
      req.on('response', (res) => {
        deadline.cancel();
        // Headers arrived: the body gets a longer, separate budget (large PDFs on slow links).
        deadline = this.scheduler.after('upstream-body-timeout', Math.max(30_000, r.timeoutMs * 10), () => {
          fail(new UpstreamError('timeout', true, 'body not complete in time'));
          res.destroy();
        });
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > this.maxBodyBytes) {
            fail(new UpstreamError('too_large', true, `body over ${this.maxBodyBytes} bytes`));
            res.destroy();
            return;
          }
          chunks.push(c);
        });
        res.on('error', () => fail(new UpstreamError('unreachable', true, 'response aborted')));
        res.on('aborted', () => fail(new UpstreamError('unreachable', true, 'response aborted')));
        res.on('end', () => {
          if (settled) return;
          settled = true;
          deadline.cancel();
          resolve({
            status: res.statusCode ?? 502,
            headers: relayableHeaders(res.headers),
            body: Buffer.concat(chunks, size),
          });
        });
      });
      req.end(r.body);
    });
  }
}
