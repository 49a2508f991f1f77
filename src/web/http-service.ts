import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../core/logger.js';
import type { Service } from '../core/service.js';
import { parseListen } from './config-schema.js';

/** Listens with the app buildServer made. */
export class HttpService implements Service {
  readonly name = 'http';
  private readonly app: FastifyInstance;
  private readonly listen: string;
  private readonly log: Logger;
  private bound: AddressInfo | undefined;

  constructor(deps: { app: FastifyInstance; listen: string; log: Logger }) {
    this.app = deps.app;
    this.listen = deps.listen;
    this.log = deps.log;
  }

  get address(): AddressInfo | undefined {
    return this.bound;
  }

  async start(): Promise<void> {
    const { host, port } = parseListen(this.listen);
    await this.app.listen({ host, port });
    this.bound = this.app.server.address() as AddressInfo;
    this.log.info({ address: this.bound.address, port: this.bound.port }, 'http listening');
  }

  async stop(): Promise<void> {
    await this.app.close();
  }
}
