import { EventEmitter } from 'node:events';

/**
 * A typed, in-process event bus passed through deps (never a module singleton). Producers
 * (uplink, devices, system) emit; consumers (report, web live updates, metrics) listen.
 * A listener that throws is isolated: it is reported through `onListenerError`, and the
 * producer and other listeners carry on.
 */
export class Bus<Events extends { [K in keyof Events]: unknown }> {
  private readonly emitter = new EventEmitter();
  private readonly onListenerError: (event: string, err: unknown) => void;

  constructor(onListenerError: (event: string, err: unknown) => void) {
    this.onListenerError = onListenerError;
    this.emitter.setMaxListeners(50);
  }

  on<K extends keyof Events & string>(event: K, listener: (payload: Events[K]) => void): () => void {
    const wrapped = (payload: Events[K]) => {
      try {
        listener(payload);
      } catch (err) {
        this.onListenerError(event, err);
      }
    };
    this.emitter.on(event, wrapped);
    return () => this.emitter.off(event, wrapped);
  }

  emit<K extends keyof Events & string>(event: K, payload: Events[K]): void {
    this.emitter.emit(event, payload);
  }
}
