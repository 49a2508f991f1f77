import { execFile } from 'node:child_process';
import { GwError } from '../core/errors.js';
import { parseFping } from './fping-output.js';
import type { ProbeSpec } from './spec-schema.js';
import type { Probe, ProbeResult, ProbeType } from './types.js';

/** fping's own per-packet timeout default; a village LAN/ISP hop answers far sooner. */
const DEFAULT_TIMEOUT_MS = 500;

export interface FpingAvailability {
  available: boolean;
  version: string | null;
  /** Why not, in words for `doctor` and status: "fping not installed", "no raw-socket permission". */
  reason: string | null;
}

/** Asks fping for its version: cheap, for `doctor` and the status page (never on a hot path). */
export function fpingAvailability(bin = 'fping'): Promise<FpingAvailability> {
  return new Promise((resolve) => {
    execFile(bin, ['-v'], { timeout: 3000 }, (err, stdout, stderr) => {
      const text = `${stdout}${stderr}`;
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT')
        resolve({ available: false, version: null, reason: 'fping not installed (apt install fping)' });
      else if (err) resolve({ available: false, version: null, reason: `fping -v failed: ${err.message}` });
      else resolve({ available: true, version: text.match(/Version\s+(\S+)/i)?.[1] ?? null, reason: null });
    });
  });
}

/**
 * Packets per round: as many as fit one per second into the interval, so a target never sees
 * more than 1 packet/s on average (SPEC), and a 1 s probe is one packet per round.
 */
export function fpingArgs(spec: ProbeSpec): string[] {
  const intervalMs = (spec.interval_s ?? 1) * 1000;
  const packets = Math.max(1, Math.floor(intervalMs / 1000));
  const periodMs = Math.floor(intervalMs / packets);
  const timeoutMs = Math.min(spec.timeout_ms ?? DEFAULT_TIMEOUT_MS, periodMs);
  return ['-c', String(packets), '-p', String(periodMs), '-t', String(timeoutMs), '-B', '1', spec.host ?? ''];
}

class IcmpProbe implements Probe {
  readonly spec: ProbeSpec;
  private readonly bin: string;

  // RTTs come from fping itself, so the probe needs none of ProbeDeps.
  constructor(spec: ProbeSpec, bin: string) {
    this.spec = spec;
    this.bin = bin;
  }

  run(signal: AbortSignal): Promise<ProbeResult> {
    const args = fpingArgs(this.spec);
    return new Promise((resolve, reject) => {
      execFile(
        this.bin,
        args,
        { signal, killSignal: 'SIGKILL', windowsHide: true },
        (err, stdout, stderr) => {
          const code = (err as { code?: unknown } | null)?.code;
          if (code === 'ENOENT') {
            reject(
              new GwError('GW_ERR_PROBE_BROKEN', `fping not found (${this.bin})`, {
                cause: err,
                details: { reason: 'fping_missing' },
              }),
            );
            return;
          }
          if (signal.aborted || (err as Error | null)?.name === 'AbortError') {
            resolve({ outcome: 'timeout', latency_ms: null, fields: { aborted: true } });
            return;
          }
          // Exit 0 all answered, 1 some did not, 2 name not found; 3 bad args and 4 a failed
          // system call (no raw-socket permission) mean the probe itself cannot work.
          if (code === 3 || code === 4) {
            reject(
              new GwError('GW_ERR_PROBE_BROKEN', `fping failed: ${stderr.trim().slice(0, 200)}`, {
                details: { reason: 'fping_error', exit: code },
              }),
            );
            return;
          }
          resolve(toResult(parseFping(`${stdout}\n${stderr}`), code === 2));
        },
      );
    });
  }
}

function toResult(s: ReturnType<typeof parseFping>, notFound: boolean): ProbeResult {
  const fields: ProbeResult['fields'] = {
    sent: s.sent,
    received: s.received,
    loss_pct: s.loss_pct,
    duplicates: s.duplicates,
    rtt_min_ms: s.min_ms,
    rtt_max_ms: s.max_ms,
  };
  if (s.icmp_errors.length) fields.icmp_error = s.icmp_errors.join(', ');
  if (s.received > 0) return { outcome: 'ok', latency_ms: s.avg_ms, fields };
  if (s.unresolved || notFound)
    return { outcome: 'unreachable', latency_ms: null, fields: { ...fields, error: 'unresolved' } };
  const unreachable = s.icmp_errors.some((e) => /unreachable|prohibited/.test(e));
  return { outcome: unreachable ? 'unreachable' : 'timeout', latency_ms: null, fields };
}

/** The icmp type with another fping binary (tests: a missing one). */
export function icmpType(bin = 'fping'): ProbeType {
  return { type: 'icmp', create: (spec) => new IcmpProbe(spec, bin) };
}

export const icmp: ProbeType = icmpType();
