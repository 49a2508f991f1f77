import type { Static, TProperties } from '@sinclair/typebox';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';

/**
 * What every probe spec holds whatever its type. The full `ProbeSpec` (spec-schema.ts) adds
 * every registered type's fields; a probe file sees only the base and its own fields, so it
 * never imports the registry it is listed in.
 */
export interface ProbeSpecBase {
  type: string;
  name?: string;
  interval_s?: number;
  timeout_ms?: number;
}

/** The spec a probe type reads: the base plus its own fields, all optional until refined. */
export type SpecOf<F extends TProperties> = ProbeSpecBase & { [K in keyof F]?: Static<F[K]> };

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
  readonly spec: ProbeSpecBase;
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
  readonly specs: readonly ProbeSpecBase[];
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

/** A result field shown as the probe's detail; `unless` hides it at its healthy value. */
export type DetailKey = string | { key: string; unless: string | number | boolean };

/**
 * One probe type = one file in src/probes/ exporting this, plus one line in registry.ts. The
 * config schema, the per-type required fields, the defaults and the detail rendering of the
 * status page and `doctor` are all derived from these descriptors (spec-schema.ts).
 */
export interface ProbeType<F extends TProperties = TProperties> {
  readonly type: string;
  /**
   * The config keys this type reads, beyond name/interval_s/timeout_ms. A key several types
   * read (host, port) must have the same schema in each: use the shared ones in fields.ts.
   */
  readonly fields: F;
  /** Keys a spec of this type must set (reported as `required for type "<type>"`). */
  readonly required: ReadonlyArray<keyof F & string>;
  /** interval_s and timeout_ms when the spec sets none. */
  readonly defaults: { readonly interval_s: number; readonly timeout_ms: number };
  /** Result fields shown as `key=value` in the status page and `doctor`, in this order. */
  readonly detail: readonly DetailKey[];
  /**
   * How long one run on its own may take, when more than the timeout (icmp waits for its
   * next packet, up to an interval). Used by one-off runs (`doctor`, the `ping` command).
   */
  oneRunMs?(spec: SpecOf<F>): number;
  create(spec: SpecOf<F>, deps: ProbeDeps): Probe;
  /** Optional: one sampler for several specs that share an interval and timeout. */
  sampler?(specs: ReadonlyArray<SpecOf<F>>, deps: ProbeDeps): ProbeSampler;
}

/**
 * A probe type seen from outside its file (registry lookups, derived tables): the same
 * descriptor with its field types erased.
 */
export interface AnyProbeType {
  readonly type: string;
  readonly fields: TProperties;
  readonly required: readonly string[];
  readonly defaults: { readonly interval_s: number; readonly timeout_ms: number };
  readonly detail: readonly DetailKey[];
  oneRunMs?(spec: ProbeSpecBase): number;
  create(spec: ProbeSpecBase, deps: ProbeDeps): Probe;
  sampler?(specs: readonly ProbeSpecBase[], deps: ProbeDeps): ProbeSampler;
}

/** Declares a probe type with its field types inferred (`export const tcp = defineProbeType({...})`). */
export function defineProbeType<F extends TProperties>(t: ProbeType<F>): ProbeType<F> {
  return t;
}
