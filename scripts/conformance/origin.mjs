// The origin every cache under test sits in front of: one HTTP server on port 0, answering each
// case's path with that case's script and recording every request it receives, so a case can
// tell "answered from the cache" (the origin saw nothing) from "fetched again".
import { createServer } from 'node:http';

export class Origin {
  /** path prefix → { handler(req, n, body), requests: [{ method, url, headers }] } */
  routes = new Map();
  server = createServer((req, res) => this.handle(req, res));

  async start() {
    await new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = this.server.address().port;
  }

  async stop() {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  /** Registers a case's script for every URL under `prefix`; returns its request log. */
  route(prefix, handler) {
    const route = { handler, requests: [] };
    this.routes.set(prefix, route);
    return route;
  }

  handle(req, res) {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const prefix = [...this.routes.keys()].find(
        (p) => req.url === p || req.url.startsWith(`${p}/`) || req.url.startsWith(`${p}?`),
      );
      const route = prefix && this.routes.get(prefix);
      if (!route) {
        res.writeHead(404, { 'cache-control': 'no-store' });
        res.end('no such case');
        return;
      }
      route.requests.push({ method: req.method, url: req.url, headers: req.headers });
      const out = route.handler(req, route.requests.length, Buffer.concat(chunks)) ?? {};
      if (out === 'reset') {
        req.socket.destroy();
        return;
      }
      const send = () => {
        const headers = { ...(out.headers ?? {}) };
        // `date: null` answers without a Date field (node adds one otherwise).
        if ('date' in headers && headers.date === null) {
          res.sendDate = false;
          delete headers.date;
        }
        for (const [k, v] of Object.entries(headers)) if (v !== undefined && v !== null) res.setHeader(k, v);
        res.statusCode = out.status ?? 200;
        res.end(req.method === 'HEAD' ? undefined : (out.body ?? ''));
      };
      if (out.delayMs) setTimeout(send, out.delayMs);
      else send();
    });
  }
}
