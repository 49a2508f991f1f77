import { GwError } from '../core/errors.js';
import type { FpingLine } from './fping-output.js';
import type { ProbeResult } from './types.js';

const MAX_RTTS = 120;

/**
 * What fping reported for one target since the last round, folded into a probe result. Shared
 * by the icmp probe (one fping per target) and the fping sampler (one fping for many).
 */
export class FpingTally {
  sent = 0;
  received = 0;
  duplicates = 0;
  unresolved = false;
  private rtts: number[] = [];
  private readonly icmp = new Set<string>();

  /** Folds one parsed line in; true when it completed a packet (a reply or a timeout). */
  add(l: FpingLine): boolean {
    switch (l.kind) {
      case 'reply':
        this.sent++;
        this.received++;
        if (this.rtts.length < MAX_RTTS) this.rtts.push(l.rtt);
        return true;
      case 'timeout':
        this.sent++;
        return true;
      case 'duplicate':
        this.duplicates++;
        return false;
      case 'icmp_error':
        this.icmp.add(l.error);
        return false;
      case 'unresolved':
        this.unresolved = true;
        return true;
      default:
        return false;
    }
  }

  /** Something to report: at least one packet completed, or the name did not resolve. */
  get ready(): boolean {
    return this.sent > 0 || this.unresolved;
  }

  result(): ProbeResult {
    const rtts = this.rtts;
    const avg = rtts.length ? rtts.reduce((a, b) => a + b, 0) / rtts.length : null;
    const r3 = (v: number) => Math.round(v * 1000) / 1000;
    const fields: ProbeResult['fields'] = {
      sent: this.sent,
      received: this.received,
      loss_pct: this.sent > 0 ? Math.round(((this.sent - this.received) / this.sent) * 1000) / 10 : 100,
      duplicates: this.duplicates,
      rtt_min_ms: rtts.length ? r3(Math.min(...rtts)) : null,
      rtt_max_ms: rtts.length ? r3(Math.max(...rtts)) : null,
    };
    if (this.icmp.size) fields.icmp_error = [...this.icmp].join(', ');
    if (this.received > 0) return { outcome: 'ok', latency_ms: avg === null ? null : r3(avg), fields };
    if (this.unresolved)
      return { outcome: 'unreachable', latency_ms: null, fields: { ...fields, error: 'unresolved' } };
    const unreachable = [...this.icmp].some((e) => /unreachable|prohibited|no route/.test(e));
    return { outcome: unreachable ? 'unreachable' : 'timeout', latency_ms: null, fields };
  }
}

/** fping could not be started: not installed (the usual case on a fresh box) or another spawn error. */
export function fpingSpawnError(err: NodeJS.ErrnoException, bin: string): GwError {
  const missing = err.code === 'ENOENT';
  return new GwError('GW_ERR_PROBE_BROKEN', missing ? `fping not found (${bin})` : `fping: ${err.message}`, {
    cause: err,
    details: { reason: missing ? 'fping_missing' : 'fping_error' },
  });
}
