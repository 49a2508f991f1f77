import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { Aedes } from 'aedes';

/**
 * The regency's MQTT broker, embedded (aedes, MQTT 3.1.1) so the demo needs no Mosquitto.
 * `stop()` and `start()` again on the same port is the scenario's "regency broker down": its
 * sessions and retained messages are gone afterwards, as after a broker restart without
 * persistence; the gateways publish their state again on reconnect.
 */
export class DemoBroker {
  port = 0;
  private broker: Aedes | undefined;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  get up(): boolean {
    return this.server !== undefined;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const broker = await Aedes.createBroker();
    const server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      broker.handle(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.broker = broker;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    const broker = this.broker;
    this.server = undefined;
    this.broker = undefined;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    await new Promise<void>((r) => (broker ? broker.close(() => r()) : r()));
  }
}
