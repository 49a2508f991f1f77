import type { Registry } from 'prom-client';
import type { Service } from '../core/service.js';
import type { RegencyStatus } from './status.js';
import { VILLAGE_STATES } from './village-state.js';

/**
 * The fleet for an existing Prometheus. Values are read from the store at each scrape
 * (like `regency status`), so every collector instance on one store reports the same
 * totals. A per-app Registry, loaded at the first scrape.
 */
export class RegencyMetrics implements Service {
  readonly name = 'metrics';
  private readonly read: () => Promise<RegencyStatus>;
  private readonly alerts: (() => Promise<Record<string, number>>) | undefined;
  private registry: Promise<Registry> | undefined;
  private started = false;
  /** One store read per scrape, shared by every metric of that scrape. */
  private snapshot: Promise<RegencyStatus> | undefined;

  constructor(deps: { read(): Promise<RegencyStatus>; alerts?(): Promise<Record<string, number>> }) {
    this.read = deps.read;
    this.alerts = deps.alerts;
  }

  get contentType(): string {
    return 'text/plain; version=0.0.4; charset=utf-8';
  }

  start(): void {
    this.started = true;
  }

  async stop(): Promise<void> {
    this.started = false;
    (await this.registry?.catch(() => undefined))?.clear();
    this.registry = undefined;
  }

  async render(): Promise<string | undefined> {
    if (!this.started) return undefined;
    this.registry ??= this.build();
    const registry = await this.registry;
    // A fresh read for each scrape (a synchronous store never yields to clear it otherwise).
    this.snapshot = undefined;
    return registry.metrics();
  }

  private async build(): Promise<Registry> {
    // The CommonJS module itself (`default`): bundled, its chunk exports nothing else.
    const { default: prom } = await import('prom-client');
    const registry = new prom.Registry();
    prom.collectDefaultMetrics({ register: registry, prefix: 'kampung_regency_' });
    const current = () => {
      this.snapshot ??= this.read();
      return this.snapshot;
    };
    const total = (name: string, help: string, pick: (s: RegencyStatus) => number) =>
      new prom.Counter({
        name,
        help,
        registers: [registry],
        async collect() {
          this.reset();
          this.inc(pick(await current()));
        },
      });
    total('kampung_regency_messages_total', 'Envelopes stored (each id once)', (s) => s.messages);
    total(
      'kampung_regency_duplicates_total',
      'Redelivered envelopes (same id), not stored again',
      (s) => s.duplicates,
    );
    total(
      'kampung_regency_quarantined_total',
      'Messages that failed validation, kept in quarantine',
      (s) => s.quarantined,
    );
    total('kampung_regency_seq_gaps_total', 'Seq gaps still open', (s) => s.seq_gaps);
    total(
      'kampung_regency_seq_reused_total',
      'Seqs received again with a new id (power cut)',
      (s) => s.reused,
    );
    new prom.Gauge({
      name: 'kampung_regency_villages',
      help: 'Villages by state',
      labelNames: ['state'],
      registers: [registry],
      async collect() {
        const s = await current();
        for (const st of VILLAGE_STATES) this.set({ state: st }, s.villages[st]);
      },
    });
    new prom.Gauge({
      name: 'kampung_regency_villages_revoked',
      help: 'Villages whose broker identity is revoked (their messages are quarantined)',
      registers: [registry],
      async collect() {
        this.set((await current()).revoked);
      },
    });
    new prom.Gauge({
      name: 'kampung_regency_lag_seconds',
      help: 'Publish-to-commit delay of the newest live message',
      registers: [registry],
      async collect() {
        const s = await current();
        if (s.lag_s !== null) this.set(s.lag_s);
      },
    });
    const alerts = this.alerts;
    if (alerts)
      new prom.Gauge({
        name: 'kampung_regency_alerts',
        help: 'Webhook alerts in the queue by state (pending, sent, failed)',
        labelNames: ['state'],
        registers: [registry],
        async collect() {
          for (const [st, n] of Object.entries(await alerts())) this.set({ state: st }, n);
        },
      });
    return registry;
  }
}
