import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpOrigin } from '../../src/sim/http-origin.js';

export interface Attempt {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
  /** The connection was destroyed after the request was handled, so the answer was lost. */
  dropped: boolean;
}

export type Handler = (
  req: IncomingMessage,
  body: Buffer,
) =>
  | {
      status?: number;
      headers?: Record<string, string | string[] | null | undefined>;
      body?: Buffer | string;
    }
  | 'drop'
  | 'hang';

/** A real HTTP upstream on a port the test can stop and start again; records every attempt. */
export class TestUpstream {
  attempts: Attempt[] = [];
  /** Where the Date field comes from: the test's fake clock, so origin and box agree on time. */
  clock: { wallMs(): number } | undefined;
  handler: Handler;
  private readonly origin = new HttpOrigin({
    handler: (req, res) => this.handle(req, res),
    keepAliveMs: 5000,
  });

  constructor(handler: Handler) {
    this.handler = handler;
  }

  get port(): number {
    return this.origin.port;
  }

  /** The port to listen on at the next start (a test that must know it before). */
  set port(p: number) {
    this.origin.port = p;
  }

  get url(): string {
    return this.origin.url;
  }

  count(pathPrefix: string): number {
    return this.attempts.filter((a) => a.url.startsWith(pathPrefix)).length;
  }

  /** Listens on `port` (default the one it had: a restart keeps the URL). */
  start(port?: number): Promise<void> {
    return this.origin.start(port);
  }

  stop(): Promise<void> {
    return this.origin.stop();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const attempt: Attempt = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
        dropped: false,
      };
      this.attempts.push(attempt);
      const out = this.handler(req, body);
      if (out === 'hang') return;
      if (out === 'drop') {
        attempt.dropped = true;
        req.socket.destroy();
        return;
      }
      const headers: Record<string, string | string[]> = {
        date: new Date(this.clock?.wallMs() ?? Date.now()).toUTCString(),
      };
      for (const [k, v] of Object.entries(out.headers ?? {}))
        if (v !== undefined && v !== null) headers[k] = v;
      // null: the field is left out (`date: null` sends a response without Date).
      if (out.headers?.date === null) {
        delete headers.date;
        res.sendDate = false;
      }
      res.writeHead(out.status ?? 200, headers);
      res.end(out.body ?? '');
    });
  }
}
