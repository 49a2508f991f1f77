import type { Metric, Registry } from 'prom-client';
import type { Service } from '../core/service.js';
import type { StatusObject } from '../status/types.js';
import { type MetricDef, statusMetrics } from './metric-defs.js';

type Sample = { labels?: Record<string, string>; value: number };

/**
 * The Prometheus view of the status object. A per-app Registry (never prom-client's global
 * one) with process metrics under `kampung_`, plus gauges read from one status snapshot per
 * scrape. Samples that are absent (no sensor, no reading) are left out, never written as 0.
 * prom-client and its event-loop monitor are loaded at the first scrape, so a box nobody
 * scrapes (most report over MQTT only) pays neither their memory nor their CPU.
 */
export class GatewayMetrics implements Service {
  readonly name = 'metrics';
  private readonly snapshot: () => StatusObject;
  private registry: Promise<Registry> | undefined;
  private started = false;
  private current: StatusObject | undefined;

  constructor(deps: { snapshot(): StatusObject }) {
    this.snapshot = deps.snapshot;
  }

  start(): void {
    this.started = true;
  }

  async stop(): Promise<void> {
    this.started = false;
    const registry = this.registry;
    this.registry = undefined;
    (await registry?.catch(() => undefined))?.clear();
  }

  get contentType(): string {
    return 'text/plain; version=0.0.4; charset=utf-8';
  }

  /** One scrape: undefined before start (the route answers 503). */
  async render(): Promise<string | undefined> {
    if (!this.started) return undefined;
    this.registry ??= this.build();
    const registry = await this.registry;
    this.current = this.snapshot();
    try {
      return await registry.metrics();
    } finally {
      this.current = undefined;
    }
  }

  private async build(): Promise<Registry> {
    const prom = await import('prom-client');
    const registry = new prom.Registry();
    // 1 s resolution: prom-client's default (10 ms) wakes the process 100 times a second.
    prom.collectDefaultMetrics({
      register: registry,
      prefix: 'kampung_',
      eventLoopMonitoringPrecision: 1000,
    });
    for (const def of statusMetrics()) registry.registerMetric(this.adapt(def));
    return registry;
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
