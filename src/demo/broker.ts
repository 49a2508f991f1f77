import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { Aedes } from 'aedes';

export interface TopicSummary {
  topic: string;
  count: number;
  bytes: number;
  retained: boolean;
  last_at: string;
  last: unknown;
}

const MAX_TOPICS = 500;

/**
 * A stand-in for the regency, all in this process: an MQTT broker (aedes) the gateway
 * reports to, plus a small HTTP "regency view" of what arrived (GET /) and a health URL
 * (GET /health) that the demo's `regency` uplink probe checks.
 */
export class DemoRegency {
  private broker: Aedes | undefined;
  private mqttServer: Server | undefined;
  private httpServer: HttpServer | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly topics = new Map<string, TopicSummary>();
  mqttPort = 0;
  httpPort = 0;

  async start(): Promise<void> {
    const broker = await Aedes.createBroker();
    this.broker = broker;
    broker.on('publish', (packet, client) => {
      if (!client || packet.topic.startsWith('$SYS')) return;
      this.record(packet.topic, packet.payload as Buffer, packet.retain);
    });
    this.mqttServer = createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      broker.handle(socket);
    });
    this.mqttPort = await listen(this.mqttServer);
    this.httpServer = createHttpServer((req, res) => {
      if (req.url === '/health') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ received: this.summary() }, null, 2));
    });
    this.httpPort = await listen(this.httpServer);
  }

  summary(): TopicSummary[] {
    return [...this.topics.values()].sort((a, b) => a.topic.localeCompare(b.topic));
  }

  /** One line per topic for the terminal. */
  describe(): string {
    const rows = this.summary();
    if (rows.length === 0) return 'regency: nothing received yet';
    return [
      `regency: ${rows.reduce((n, r) => n + r.count, 0)} messages on ${rows.length} topics`,
      ...rows.map((r) => `  ${r.topic}  ×${r.count}${r.retained ? ' (retained)' : ''}  ${r.bytes} B`),
    ].join('\n');
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.mqttServer ? this.mqttServer.close(() => r()) : r()));
    const http = this.httpServer;
    const closed = new Promise<void>((r) => (http ? http.close(() => r()) : r()));
    http?.closeAllConnections();
    await closed;
    await new Promise<void>((r) => (this.broker ? this.broker.close(() => r()) : r()));
  }

  private record(topic: string, payload: Buffer, retained: boolean): void {
    let last: unknown;
    try {
      last = JSON.parse(payload.toString('utf8'));
    } catch {
      last = `${payload.length} bytes`;
    }
    const prev = this.topics.get(topic);
    if (!prev && this.topics.size >= MAX_TOPICS) return;
    this.topics.set(topic, {
      topic,
      count: (prev?.count ?? 0) + 1,
      bytes: (prev?.bytes ?? 0) + payload.length,
      retained: retained || (prev?.retained ?? false),
      last_at: new Date().toISOString(),
      last,
    });
  }
}

function listen(server: Server | HttpServer): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}
