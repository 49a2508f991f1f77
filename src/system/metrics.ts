import { collectDefaultMetrics, type Metric, Registry } from 'prom-client';
import type { Service } from '../core/service.js';
import type { StatusObject } from '../status/types.js';
import { type MetricDef, statusMetrics } from './metric-defs.js';

type Sample = { labels?: Record<string, string>; value: number };

/**
 * The Prometheus view of the status object. A per-app Registry (never prom-client's global
 * one) with process metrics under `kampung_`, plus gauges read from one status snapshot per
 * scrape. Samples that are absent (no sensor, no reading) are left out, never written as 0.
 */
export class GatewayMetrics implements Service {
  readonly name = 'metrics';
  private readonly snapshot: () => StatusObject;
  private registry: Registry | undefined;
  private current: StatusObject | undefined;

  constructor(deps: { snapshot(): StatusObject }) {
    this.snapshot = deps.snapshot;
  }

  start(): void {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: 'kampung_' });
    for (const def of statusMetrics()) registry.registerMetric(this.adapt(def));
    this.registry = registry;
  }

  stop(): void {
    this.registry?.clear();
    this.registry = undefined;
  }

  get contentType(): string {
    return Registry.PROMETHEUS_CONTENT_TYPE;
  }

  /** One scrape: undefined before start (the route answers 503). */
  async render(): Promise<string | undefined> {
    if (!this.registry) return undefined;
    this.current = this.snapshot();
    try {
      return await this.registry.metrics();
    } finally {
      this.current = undefined;
    }
  }

  /** prom-client renders any object with name/help/type/get(); ours reads the scrape's snapshot. */
  private adapt(def: MetricDef): Metric {
    const self = this;
    const metric = {
      name: def.name,
      help: def.help,
      type: def.type,
      aggregator: 'sum',
      async get() {
        const s = self.current ?? self.snapshot();
        const values: Sample[] = [];
        def.collect(s, (value, labels) => {
          if (value !== null && value !== undefined && Number.isFinite(value)) values.push({ labels, value });
        });
        return { name: def.name, help: def.help, type: def.type, aggregator: 'sum', values };
      },
      reset() {},
    };
    return metric as unknown as Metric;
  }
}
