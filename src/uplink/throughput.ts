import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { UplinkConfig } from './config-schema.js';

export interface ThroughputResult {
  at: string;
  bytes: number;
  mbps: number;
  error: string | null;
}

/**
 * Optional download test against a configured URL (off by default: the village pays for
 * every byte). Stops at `max_bytes` whatever the server sends.
 */
export class Throughput {
  private readonly deps: { config: UplinkConfig['throughput']; clock: Clock; log: Logger };

  constructor(deps: { config: UplinkConfig['throughput']; clock: Clock; log: Logger }) {
    this.deps = deps;
  }

  async run(signal: AbortSignal): Promise<ThroughputResult> {
    const { config, clock, log } = this.deps;
    const controller = new AbortController();
    const abort = () => controller.abort();
    signal.addEventListener('abort', abort, { once: true });
    const started = clock.monoMs();
    let bytes = 0;
    let error: string | null = null;
    try {
      const res = await fetch(config.url ?? '', {
        signal: AbortSignal.any([controller.signal, AbortSignal.timeout(config.timeout_s * 1000)]),
      });
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      const reader = res.body.getReader();
      while (bytes < config.max_bytes) {
        const { done, value } = await reader.read();
        if (done) break;
        bytes += value.byteLength;
      }
      controller.abort();
    } catch (err) {
      if (!controller.signal.aborted || bytes === 0) error = err instanceof Error ? err.message : String(err);
    } finally {
      signal.removeEventListener('abort', abort);
    }
    const secs = Math.max(0.001, (clock.monoMs() - started) / 1000);
    const result = {
      at: new Date(clock.wallMs()).toISOString(),
      bytes,
      mbps: Math.round(((bytes * 8) / secs / 1e6) * 100) / 100,
      error,
    };
    log.info(result, 'throughput test done');
    return result;
  }
}
