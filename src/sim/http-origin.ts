import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP origin on one loopback port that can be stopped and started again on that same
 * port: the first start picks a free port (or the one given) and keeps it, so a URL written
 * into a gateway's config stays valid across a cut. `stop()` drops every open connection, as a
 * dead link does. The demo's public-service upstream and the cache tests' upstream are both one.
 */
export class HttpOrigin {
  port: number;
  private server: Server | undefined;
  private readonly o: { handler: RequestListener; keepAliveMs: number };

  constructor(o: { handler: RequestListener; keepAliveMs: number; port?: number }) {
    this.o = o;
    this.port = o.port ?? 0;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get listening(): boolean {
    return this.server !== undefined;
  }

  /** Listens on `port` (default the one kept from the last start); a no-op when listening. */
  async start(port = this.port): Promise<void> {
    if (this.server) return;
    const server = createServer(this.o.handler);
    server.keepAliveTimeout = this.o.keepAliveMs;
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
}
