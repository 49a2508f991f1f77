import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

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
  port = 0;
  /** Where the Date field comes from: the test's fake clock, so origin and box agree on time. */
  clock: { wallMs(): number } | undefined;
  handler: Handler;
  private server: Server | undefined;

  constructor(handler: Handler) {
    this.handler = handler;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  count(pathPrefix: string): number {
    return this.attempts.filter((a) => a.url.startsWith(pathPrefix)).length;
  }

  async start(port = this.port): Promise<void> {
    const server = createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
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
