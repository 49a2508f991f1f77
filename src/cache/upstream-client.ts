import http from 'node:http';
import https from 'node:https';
import type { Scheduler } from '../core/scheduler.js';
import type { HeaderMap } from './cache-policy.js';
import { relayableHeaders } from './proxy-headers.js';

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
  /** Empty when the body went to the request's spill sink (then `spilled` is true). */
  body: Buffer;
  spilled?: boolean;
}

export interface UpstreamRequest {
  url: URL;
  method: string;
  headers: HeaderMap;
  body?: Buffer;
  /** Deadline for connect + response headers: a dead upstream never holds a kiosk longer. */
  timeoutMs: number;
  /** Where a body goes once it outgrows `above` bytes, if open() gives a sink for this answer. */
  spill?: Spill;
}

/**
 * Receives a body's bytes in order; aborted (and must then clean up) when the response fails.
 * A promise from write() pauses the response until it settles (backpressure from the disk).
 */
export interface BodySink {
  write(chunk: Buffer): void | Promise<void>;
  abort(): void;
}

export interface Spill {
  above: number;
  /** The cap once the body goes to a sink (it is never held whole in memory); default maxBodyBytes. */
  maxBytes?: number;
  /** Asked once, when the body passes `above`; undefined keeps it in memory. */
  open(status: number, headers: HeaderMap): BodySink | undefined;
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
      let sink: BodySink | undefined;
      const fail = (err: UpstreamError, extra?: { reusedSocket: boolean }) => {
        if (settled) return;
        settled = true;
        deadline.cancel();
        sink?.abort();
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
        const status = res.statusCode ?? 502;
        const headers = relayableHeaders(res.headers);
        let chunks: Buffer[] = [];
        let size = 0;
        let asked = false;
        let pending: Promise<void> | undefined;
        res.on('data', (c: Buffer) => {
          if (settled) return;
          size += c.length;
          // A body going to disk is bounded by what its sink may keep, one held in memory by maxBodyBytes.
          const cap = sink && r.spill?.maxBytes !== undefined ? r.spill.maxBytes : this.maxBodyBytes;
          if (size > cap) {
            fail(new UpstreamError('too_large', true, `body over ${cap} bytes`));
            res.destroy();
            return;
          }
          if (!sink && !asked && r.spill && size > r.spill.above) {
            asked = true;
            sink = r.spill.open(status, headers);
          }
          if (!sink) {
            chunks.push(c);
            return;
          }
          const lost = (err: unknown) => {
            fail(new UpstreamError('unreachable', true, `body could not be kept: ${(err as Error).message}`));
            res.destroy();
          };
          try {
            let last: void | Promise<void>;
            for (const b of chunks) last = sink.write(b);
            chunks = [];
            last = sink.write(c);
            if (last) {
              // The disk is slower than the socket: stop reading until the chunk is written.
              res.pause();
              const p = last.then(() => {
                if (pending === p) pending = undefined;
                if (!settled) res.resume();
              }, lost);
              pending = p;
            }
          } catch (err) {
            lost(err);
          }
        });
        res.on('error', () => fail(new UpstreamError('unreachable', true, 'response aborted')));
        res.on('aborted', () => fail(new UpstreamError('unreachable', true, 'response aborted')));
        res.on('close', () => {
          if (!res.complete) fail(new UpstreamError('unreachable', true, 'response cut short'));
        });
        res.on('end', async () => {
          // The last chunk may still be on its way to disk.
          if (pending) await pending;
          if (settled) return;
          settled = true;
          deadline.cancel();
          resolve({
            status,
            headers,
            body: sink ? Buffer.alloc(0) : Buffer.concat(chunks, size),
            ...(sink ? { spilled: true } : {}),
          });
        });
      });
      req.end(r.body);
    });
  }
}
