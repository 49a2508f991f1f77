import type { Metric, Registry } from 'prom-client';
import type { Service } from '../core/service.js';
import type { StatusObject } from '../status/types.js';
import { type MetricDef, statusMetrics } from './metric-defs.js';

type Sample = { labels?: Record<string, string>; value: number };

/**
 * The Prometheus view of the status object. A per-app Registry (never prom-client's global
 * one) with the standard process and Node.js metrics, plus gauges read from one status snapshot per
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
      return tidyExposition(await registry.metrics());
    } finally {
      this.current = undefined;
    }
  }

  private async build(): Promise<Registry> {
    // The CommonJS module itself (`default`): bundled, its chunk exports nothing else.
    const { default: prom } = await import('prom-client');
    const registry = new prom.Registry();
    // The standard process_* and nodejs_* names, unprefixed, so stock dashboards and alert
    // rules find them. 1 s resolution: prom-client's default (10 ms) wakes the process 100
    // times a second.
    prom.collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 1000 });
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

// prom-client's three "active" totals are gauges named like counters; their per-type
// siblings (nodejs_active_handles{type=...}, ...) carry the same numbers: sum() them.
const GAUGES_NAMED_TOTAL = /^nodejs_active_(handles|requests|resources)_total(\{|\s)/;
// Before the event-loop histogram has a sample, prom-client reports NaN for its mean and
// stddev and 2^63 ns for its minimum: no data, not a reading.
const LAG_SUMMARY = /^nodejs_eventloop_lag_(min|max|mean|stddev|p\d+)_seconds(\{|\s)/;
const NAN_SAMPLE = /\sNaN(\s\d+)?$/i;

/**
 * The exposition as Prometheus and promtool want it: no NaN sample (it breaks rate() and
 * alert rules; an absent sample says "no data" honestly), no empty lag histogram read as
 * numbers, and no gauge whose name ends in `_total`. Families left without samples keep
 * their HELP/TYPE lines, which the format allows.
 */
export function tidyExposition(text: string): string {
  const lines = text.split('\n');
  const lagEmpty = lines.some((l) => l.startsWith('nodejs_eventloop_lag_mean_seconds') && NAN_SAMPLE.test(l));
  return lines
    .filter((line) => {
      if (GAUGES_NAMED_TOTAL.test(line.replace(/^# (HELP|TYPE) /, ''))) return false;
      if (line.startsWith('#')) return true;
      if (lagEmpty && LAG_SUMMARY.test(line)) return false;
      return !NAN_SAMPLE.test(line);
    })
    .join('\n');
}
