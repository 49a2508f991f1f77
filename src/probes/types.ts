import type { TSchema } from '@sinclair/typebox';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { ProbeSpec } from './spec-schema.js';

/** How one probe run ended. A dead target is a result (STYLE rule 5), never an exception. */
export type ProbeOutcome = 'ok' | 'timeout' | 'refused' | 'unreachable' | 'bad_response';

export interface ProbeResult {
  outcome: ProbeOutcome;
  /** Round-trip or response time in ms; null when there was no answer. */
  latency_ms: number | null;
  /** Type-specific facts (loss_pct, status, rcode, tls_error, ...), stored generically as JSON. */
  fields: Record<string, string | number | boolean | null>;
}

export interface Probe {
  readonly spec: ProbeSpec;
  /**
   * One run. Must settle before `signal` aborts (the scheduler's deadline) and must not set
   * timers of its own beyond what the signal bounds. Rejects only when the probe itself is
   * broken (e.g. fping missing), with a GwError GW_ERR_PROBE_BROKEN.
   */
  run(signal: AbortSignal): Promise<ProbeResult>;
  /**
   * Releases what runs acquired (icmp keeps one fping running between rounds). Call it when
   * the probe is no longer scheduled; a later run() may acquire again.
   */
  close?(): void;
}

export interface ProbeDeps {
  clock: Clock;
  log: Logger;
}

/** One probe type = one file in src/probes/ exporting this, plus one line in registry.ts. */
export interface ProbeType {
  readonly type: ProbeSpec['type'];
  /** Extra per-type schema checks beyond spec-schema.ts, if any. */
  readonly schema?: TSchema;
  create(spec: ProbeSpec, deps: ProbeDeps): Probe;
}
