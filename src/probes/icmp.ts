import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { GwError } from '../core/errors.js';
import { parseFpingLine } from './fping-output.js';
import { FpingSampler } from './fping-sampler.js';
import { FpingTally, fpingSpawnError } from './fping-tally.js';
import { ICMP_DEFAULTS, ICMP_FIELDS, type IcmpSpec } from './icmp-spec.js';
import { defineProbeType, type Probe, type ProbeResult } from './types.js';

/** Each fping runs this long and is then replaced: a daemon killed with -9 leaves no orphan pinging for longer. */
const LIFETIME_MS = 3600_000;

export interface FpingAvailability {
  available: boolean;
  version: string | null;
  /** Why not, in words for `doctor` and status: "fping not installed", ... */
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
 * One long-running fping per target (`-c` for an hour, then replaced), one packet per period:
 * a round is every packet reported since the previous round. Spawning fping for every 1 s round cost ~3.3 ms of CPU
 * per round (fork/exec + fping start-up), i.e. 0.3 % of a core per icmp probe — the whole
 * budget; reading one line a second from a pipe costs almost nothing. The period is the
 * probe's interval split into 1 s steps, so a target never sees more than 1 packet/s on
 * average. If the daemon dies, fping dies on its next write to the closed pipe (SIGPIPE), or
 * at the latest when its hour is up (it prints nothing while there is no route at all).
 */
export function fpingArgs(spec: IcmpSpec, lifetimeMs = LIFETIME_MS): string[] {
  const intervalMs = (spec.interval_s ?? ICMP_DEFAULTS.interval_s) * 1000;
  const packets = Math.max(1, Math.floor(intervalMs / 1000));
  const periodMs = Math.floor(intervalMs / packets);
  const timeoutMs = Math.min(spec.timeout_ms ?? ICMP_DEFAULTS.timeout_ms, periodMs);
  const count = Math.max(1, Math.round(lifetimeMs / periodMs));
  return ['-c', String(count), '-p', String(periodMs), '-t', String(timeoutMs), '-B', '1', spec.host ?? ''];
}

class IcmpProbe implements Probe {
  readonly spec: IcmpSpec;
  private readonly bin: string;
  private readonly lifetimeMs: number;
  private proc: ChildProcess | null = null;
  private tally = new FpingTally();
  private broken: GwError | null = null;
  private stderrTail = '';
  private readonly waiters = new Set<() => void>();
  private readonly enders = new Set<() => void>();

  constructor(spec: IcmpSpec, bin: string, lifetimeMs: number) {
    this.spec = spec;
    this.bin = bin;
    this.lifetimeMs = lifetimeMs;
  }

  run(signal: AbortSignal): Promise<ProbeResult> {
    if (!this.proc && !this.broken) this.start();
    return new Promise((resolve, reject) => {
      const done = () => {
        this.waiters.delete(check);
        this.enders.delete(onAbort);
        signal.removeEventListener('abort', onAbort);
      };
      const check = () => {
        if (this.broken) {
          const err = this.broken;
          this.broken = null; // the next round tries again
          done();
          reject(err);
        } else if (this.tally.ready) {
          done();
          resolve(this.tally.result());
          this.tally = new FpingTally();
        }
      };
      const onAbort = () => {
        done();
        resolve({ outcome: 'timeout', latency_ms: null, fields: { aborted: true } });
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(check);
      this.enders.add(onAbort);
      check();
    });
  }

  close(): void {
    const p = this.proc;
    this.proc = null;
    p?.removeAllListeners('exit');
    p?.kill('SIGTERM');
    // A round still waiting ends now, as a timeout, rather than hanging on a dead fping.
    for (const end of [...this.enders]) end();
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  private start(): void {
    const proc = spawn(this.bin, fpingArgs(this.spec, this.lifetimeMs), {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = proc;
    this.stderrTail = '';
    const onText = (isErr: boolean) => {
      let buf = '';
      return (chunk: string) => {
        buf += chunk;
        if (isErr) this.stderrTail = (this.stderrTail + chunk).slice(-300);
        let nl = buf.indexOf('\n');
        while (nl >= 0) {
          this.line(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
          nl = buf.indexOf('\n');
        }
      };
    };
    proc.stdout?.setEncoding('utf8').on('data', onText(false));
    proc.stderr?.setEncoding('utf8').on('data', onText(true));
    proc.once('error', (err: NodeJS.ErrnoException) => {
      if (this.proc !== proc) return;
      this.proc = null;
      this.broken = fpingSpawnError(err, this.bin);
      this.notify();
    });
    proc.once('exit', (code, sig) => {
      if (this.proc !== proc) return;
      this.proc = null;
      // Exit 0/1: its hour is up (replace it now if a round is waiting). Exit 2: the name did
      // not resolve (a result). Anything else means fping itself failed (3 bad arguments,
      // 4 no raw socket, killed): the probe is broken.
      if (code === 0 || code === 1) {
        if (this.waiters.size > 0) this.start();
        return;
      }
      if (code === 2) this.tally.unresolved = true;
      else
        this.broken = new GwError(
          'GW_ERR_PROBE_BROKEN',
          `fping exited (${code ?? sig}): ${this.stderrTail.trim()}`,
          {
            details: { reason: 'fping_error', exit: code },
          },
        );
      this.notify();
    });
  }

  private line(text: string): void {
    if (this.tally.add(parseFpingLine(text))) this.notify();
  }
}

/** The icmp type with another fping binary or fping lifetime (tests). */
export function icmpType(bin = 'fping', lifetimeMs = LIFETIME_MS) {
  return defineProbeType({
    type: 'icmp',
    fields: ICMP_FIELDS,
    required: ['host'],
    defaults: ICMP_DEFAULTS,
    detail: ['icmp_error'],
    // A run reports the next packet's answer: it may wait up to an interval for it to leave.
    oneRunMs: (spec) =>
      (spec.timeout_ms ?? ICMP_DEFAULTS.timeout_ms) + (spec.interval_s ?? ICMP_DEFAULTS.interval_s) * 1000,
    create: (spec) => new IcmpProbe(spec, bin, lifetimeMs),
    // The uplink's every-second targets: one fping for all, read at the beat (fping-sampler.ts).
    sampler: (specs) => new FpingSampler(specs, bin),
  });
}

/** `icmp`: pings `host` with fping, one packet per second. */
export const icmp = icmpType();
