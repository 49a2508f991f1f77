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

/**
 * Watches several targets of one type continuously and is read on the caller's beat, instead
 * of one run() per round: for probes that run every second, where waking the process once per
 * target and round would cost more than the probing itself.
 */
export interface ProbeSampler {
  readonly specs: readonly ProbeSpec[];
  /** When to start relative to a beat so that each beat finds the previous packets complete. */
  readonly startOffsetMs: number;
  /** Starts (or restarts) watching. */
  start(): void;
  /** False when watching has ended (its lifetime, or a failure) and start() should be called. */
  running(): boolean;
  /**
   * What each spec (same order) saw since the previous take: a result, null when nothing has
   * completed yet, or GW_ERR_PROBE_BROKEN when the sampler cannot watch at all.
   */
  take(): Array<ProbeResult | Error | null>;
  stop(): void;
}

/** One probe type = one file in src/probes/ exporting this, plus one line in registry.ts. */
export interface ProbeType {
  readonly type: ProbeSpec['type'];
  /** Extra per-type schema checks beyond spec-schema.ts, if any. */
  readonly schema?: TSchema;
  create(spec: ProbeSpec, deps: ProbeDeps): Probe;
  /** Optional: one sampler for several specs that share an interval and timeout. */
  sampler?(specs: readonly ProbeSpec[], deps: ProbeDeps): ProbeSampler;
}
