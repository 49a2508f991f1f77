import type { DeviceState } from '../status/types.js';
import type { HeartbeatBody } from './push-schemas.js';

/**
 * One active check's verdict with hysteresis: `downAfter` failures in a row make it down,
 * `upAfter` successes in a row make it up again. The first success decides "up" at once so
 * a healthy device does not wait at start; a first failure still needs `downAfter`.
 */
export class CheckTracker {
  private fails = 0;
  private oks = 0;
  private verdict: 'undecided' | 'up' | 'down' = 'undecided';
  lastProblem: string | null = null;

  constructor(
    readonly label: string,
    private readonly downAfter: number,
    private readonly upAfter: number,
  ) {}

  get state(): 'undecided' | 'up' | 'down' {
    return this.verdict;
  }

  record(ok: boolean, problem: string | null): void {
    if (ok) {
      this.fails = 0;
      this.oks++;
      if (this.verdict === 'undecided' || (this.verdict === 'down' && this.oks >= this.upAfter))
        this.verdict = 'up';
      return;
    }
    this.oks = 0;
    this.fails++;
    this.lastProblem = problem;
    if (this.verdict !== 'down' && this.fails >= this.downAfter) this.verdict = 'down';
  }
}

export interface DeviceSignals {
  nowMono: number;
  startedMono: number;
  /** Configured heartbeat timeout; undefined when the device is not expected to push. */
  heartbeatTimeoutMs: number | undefined;
  lastHeartbeatMono: number | undefined;
  /** Trouble the last heartbeat reported, or null. */
  trouble: string | null;
  checks: readonly CheckTracker[];
}

export interface Verdict {
  state: DeviceState;
  reason: string;
}

/** Derives a device's state from what it pushed and what the checks saw. Pure. */
export function evaluate(s: DeviceSignals): Verdict {
  const down = s.checks.find((c) => c.state === 'down');
  if (down)
    return { state: 'offline', reason: `check ${down.label} failed: ${down.lastProblem ?? 'failed'}` };
  const timeout = s.heartbeatTimeoutMs;
  let heartbeatFresh = s.lastHeartbeatMono !== undefined;
  if (timeout !== undefined) {
    const secs = Math.round(timeout / 100) / 10;
    if (s.lastHeartbeatMono === undefined) {
      if (s.nowMono - s.startedMono > timeout)
        return { state: 'offline', reason: `no heartbeat since start (${secs} s)` };
    } else if (s.nowMono - s.lastHeartbeatMono > timeout) {
      return { state: 'offline', reason: `no heartbeat for ${secs} s` };
    }
    heartbeatFresh = s.lastHeartbeatMono !== undefined;
  }
  const checksUp = s.checks.length > 0 && s.checks.every((c) => c.state === 'up');
  if (!heartbeatFresh && !checksUp) return { state: 'unknown', reason: 'not heard from since start' };
  if (heartbeatFresh && s.trouble) return { state: 'degraded', reason: s.trouble };
  return { state: 'online', reason: heartbeatFresh ? 'heartbeat ok' : 'checks ok' };
}

/** What a heartbeat says is wrong, as a short reason without personal data; null if nothing. */
export function heartbeatTrouble(hb: HeartbeatBody): string | null {
  const parts: string[] = [];
  const t = hb.telemetry;
  if (t?.paper === 'out' || t?.paper === 'low') parts.push(`paper ${t.paper}`);
  if (t?.printer && t.printer !== 'ok' && t.printer !== 'absent') parts.push(`printer ${t.printer}`);
  if (t?.card_reader === 'error') parts.push('card reader error');
  const code = hb.errors?.[0]?.code;
  if (hb.status === 'error' || hb.status === 'degraded') {
    parts.push(`app ${hb.status}${code ? ` ${code}` : ''}`);
  } else if (hb.status === undefined && code) {
    parts.push(`app error ${code}`);
  }
  return parts.length > 0 ? parts.join(', ') : null;
}
