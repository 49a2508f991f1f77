import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP port on loopback that the demo can cut and restore: with a `forward` target it is a
 * piece of path (the village's way to the regency broker), without one a device on the path
 * that merely answers (the router, the ISP's ONT). Cut, it stops listening and drops every
 * connection, so a probe sees "refused" and MQTT sees its socket die — exactly what a fiber
 * cut does from the gateway's side, without touching anything outside this process.
 */
export class DemoPort {
  port = 0;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly forward?: { host: string; port: number }) {}

  get up(): boolean {
    return this.server !== undefined;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops listening and destroys every open connection. */
  async cut(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    for (const c of this.sockets) c.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    this.track(socket);
    if (!this.forward) {
      // A probe only needs the handshake; close idle connections soon.
      socket.setTimeout(2000, () => socket.destroy());
      socket.resume();
      return;
    }
    const peer = connect(this.forward.port, this.forward.host);
    this.track(peer);
    socket.pipe(peer).pipe(socket);
    const end = () => {
      socket.destroy();
      peer.destroy();
    };
    socket.on('error', end).on('close', end);
    peer.on('error', end).on('close', end);
  }

  private track(s: Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
  }
}
