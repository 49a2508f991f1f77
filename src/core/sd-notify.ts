import { createRequire } from 'node:module';
import type { Logger } from './logger.js';

interface DgramSocket {
  send(buf: Buffer, offset: number, length: number, path: string, cb: (err?: Error) => void): void;
  close(): void;
  on(event: 'error', fn: (err: Error) => void): void;
}
interface UnixDgram {
  createSocket(type: 'unix_dgram'): DgramSocket;
}

/**
 * sd_notify(3) for Type=notify units. Node has no AF_UNIX datagram sockets, so the
 * `unix-dgram` addon sends them from our own PID (no NotifyAccess=all race). Without
 * NOTIFY_SOCKET every call is a no-op, so the daemon runs the same outside systemd.
 */
export class SdNotifier {
  private readonly socketPath: string | undefined;
  private readonly log: Logger;
  private socket: DgramSocket | undefined;
  private unavailable = false;

  constructor(deps: { log: Logger; env?: NodeJS.ProcessEnv }) {
    const env = deps.env ?? process.env;
    const path = env.NOTIFY_SOCKET;
    // Abstract sockets start with '@'; systemd passes a file path on every supported distro.
    this.socketPath = path ? (path.startsWith('@') ? `\0${path.slice(1)}` : path) : undefined;
    this.log = deps.log;
  }

  get enabled(): boolean {
    return this.socketPath !== undefined && !this.unavailable;
  }

  /** systemd's watchdog period from WATCHDOG_USEC, if it applies to this process. */
  static watchdogIntervalMs(env: NodeJS.ProcessEnv = process.env): number | undefined {
    const usec = Number(env.WATCHDOG_USEC);
    if (!Number.isFinite(usec) || usec <= 0) return undefined;
    const pid = env.WATCHDOG_PID ? Number(env.WATCHDOG_PID) : process.pid;
    return pid === process.pid ? Math.floor(usec / 1000) : undefined;
  }

  ready(status?: string): Promise<void> {
    return this.send(status ? `READY=1\nSTATUS=${status}` : 'READY=1');
  }

  watchdog(): Promise<void> {
    return this.send('WATCHDOG=1');
  }

  stopping(): Promise<void> {
    return this.send('STOPPING=1');
  }

  status(text: string): Promise<void> {
    return this.send(`STATUS=${text.replace(/\n/g, ' ')}`);
  }

  close(): void {
    this.socket?.close();
    this.socket = undefined;
  }

  private send(message: string): Promise<void> {
    if (!this.socketPath || this.unavailable) return Promise.resolve();
    const socket = this.ensureSocket();
    if (!socket) return Promise.resolve();
    const buf = Buffer.from(message);
    const path = this.socketPath;
    return new Promise((resolve) => {
      socket.send(buf, 0, buf.length, path, (err) => {
        if (err) this.log.warn({ err }, 'sd_notify failed');
        resolve();
      });
    });
  }

  private ensureSocket(): DgramSocket | undefined {
    if (this.socket) return this.socket;
    try {
      const require = createRequire(import.meta.url);
      const unix = require('unix-dgram') as UnixDgram;
      this.socket = unix.createSocket('unix_dgram');
      this.socket.on('error', (err) => this.log.warn({ err }, 'sd_notify socket error'));
      return this.socket;
    } catch (err) {
      this.unavailable = true;
      this.log.warn({ err }, 'sd_notify unavailable: unix-dgram addon missing');
      return undefined;
    }
  }
}
