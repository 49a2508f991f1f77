import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { accessSync, closeSync, constants, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GwError } from '../core/errors.js';
import { fpingLineHost, parseFpingLine } from './fping-output.js';
import { FpingTally, fpingSpawnError } from './fping-tally.js';
import { ICMP_DEFAULTS, type IcmpSpec } from './icmp-spec.js';
import type { ProbeResult, ProbeSampler } from './types.js';

/** Renewed this often: a daemon killed with -9 leaves no orphan pinging for longer. */
const LIFETIME_MS = 10 * 60_000;
const CHUNK = 16 * 1024;
/** Linux's RAM file system, writable under the unit's ProtectSystem=strict. */
const SHM = '/dev/shm';

/**
 * Where the FIFO is made. A FIFO's inode lives on the file system of its folder: on the SD
 * card every packet fping writes updates its mtime and every read its atime, an inode block
 * written about every 30 s (4 KiB each, ~8 MB a day). In RAM (/dev/shm) that costs nothing.
 */
function fifoParent(): string {
  try {
    accessSync(SHM, constants.W_OK | constants.X_OK);
    return SHM;
  } catch {
    return tmpdir();
  }
}

/**
 * One fping for all icmp targets of the uplink, read only at the uplink's beat. fping writes
 * its per-packet lines into a FIFO that the event loop does not poll, so a packet wakes
 * neither Node nor the CPU; take() drains the FIFO with non-blocking reads. On the test box a
 * Node wake-up costs 0.3–0.8 ms of CPU, more than the whole round's work: two targets read
 * through a flowing pipe cost about two wake-ups a second, this costs none.
 */
export class FpingSampler implements ProbeSampler {
  readonly specs: readonly IcmpSpec[];
  readonly startOffsetMs: number;
  private readonly bin: string;
  private readonly lifetimeMs: number;
  private readonly hosts: string[];
  private readonly periodMs: number;
  private readonly timeoutMs: number;
  private proc: ChildProcess | null = null;
  private fd: number | null = null;
  private text = '';
  private tallies = new Map<string, FpingTally>();
  private readonly unresolved = new Set<string>();
  private broken: GwError | null = null;
  private readonly chunk = Buffer.alloc(CHUNK);

  constructor(specs: readonly IcmpSpec[], bin = 'fping', lifetimeMs = LIFETIME_MS) {
    this.specs = specs;
    this.bin = bin;
    this.lifetimeMs = lifetimeMs;
    this.hosts = [...new Set(specs.map((s) => s.host ?? ''))];
    const first = specs[0];
    this.periodMs = Math.round((first?.interval_s ?? ICMP_DEFAULTS.interval_s) * 1000);
    this.timeoutMs = Math.min(first?.timeout_ms ?? ICMP_DEFAULTS.timeout_ms, this.periodMs);
    // A packet sent at offset o has its answer (or its timeout line) by o + timeout: start
    // so that this lands ~100 ms before the next beat.
    this.startOffsetMs = Math.max(0, Math.min(this.periodMs, 1000) - this.timeoutMs - 100);
  }

  args(): string[] {
    const count = Math.max(1, Math.round(this.lifetimeMs / this.periodMs));
    return [
      '-c',
      String(count),
      '-p',
      String(this.periodMs),
      '-t',
      String(this.timeoutMs),
      '-B',
      '1',
      ...this.hosts,
    ];
  }

  running(): boolean {
    return this.proc !== null;
  }

  start(): void {
    this.stop();
    this.broken = null;
    this.text = '';
    this.tallies = new Map(this.hosts.map((h) => [h, new FpingTally()]));
    let write: number | null = null;
    const dir = mkdtempSync(join(fifoParent(), 'kgw-fping-'));
    try {
      const fifo = join(dir, 'out');
      execFileSync('mkfifo', ['-m', '600', fifo]);
      // O_NOATIME: where the FIFO must stay on disk, its reads at least write nothing.
      this.fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK | (constants.O_NOATIME ?? 0));
      write = openSync(fifo, constants.O_WRONLY);
    } catch (err) {
      this.closeFd();
      this.broken = new GwError('GW_ERR_PROBE_BROKEN', `fping output pipe: ${(err as Error).message}`, {
        cause: err,
        details: { reason: 'fping_error' },
      });
      return;
    } finally {
      // Both ends are open: the name is not needed any more, and nothing is left behind.
      rmSync(dir, { recursive: true, force: true });
    }
    const proc = spawn(this.bin, this.args(), { stdio: ['ignore', write, write] });
    closeSync(write);
    this.proc = proc;
    proc.once('error', (err: NodeJS.ErrnoException) => {
      if (this.proc !== proc) return;
      this.proc = null;
      this.broken = fpingSpawnError(err, this.bin);
    });
    proc.once('exit', (code, signal) => {
      if (this.proc !== proc) return;
      this.proc = null;
      // 0/1: its count is done (1 = some target did not answer); 2: a name did not resolve
      // (reported per target). Anything else: fping itself failed (3 bad arguments, 4 no raw
      // socket, killed).
      if (code !== null && code <= 2) return;
      this.drain();
      this.broken = new GwError('GW_ERR_PROBE_BROKEN', `fping exited (${code ?? signal})`, {
        details: { reason: 'fping_error', exit: code },
      });
    });
  }

  take(): Array<ProbeResult | Error | null> {
    this.drain();
    const byHost = new Map<string, ProbeResult | null>();
    for (const host of this.hosts) {
      const t = this.tallies.get(host);
      if (this.unresolved.has(host) && !t?.ready) {
        const r = new FpingTally();
        r.unresolved = true;
        byHost.set(host, r.result());
      } else if (t?.ready) {
        byHost.set(host, t.result());
        this.tallies.set(host, new FpingTally());
      } else byHost.set(host, null);
    }
    const broken = this.broken;
    return this.specs.map((s) => broken ?? byHost.get(s.host ?? '') ?? null);
  }

  stop(): void {
    const p = this.proc;
    this.proc = null;
    p?.kill('SIGTERM');
    this.closeFd();
  }

  private closeFd(): void {
    if (this.fd === null) return;
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
    this.fd = null;
  }

  /** Reads what fping wrote since the last call; never blocks. */
  private drain(): void {
    if (this.fd === null) return;
    for (;;) {
      let n = 0;
      try {
        n = readSync(this.fd, this.chunk, 0, CHUNK, null);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') break;
        throw err;
      }
      if (n === 0) {
        // fping is gone and everything it wrote has been read.
        if (!this.proc) this.closeFd();
        break;
      }
      this.text += this.chunk.toString('utf8', 0, n);
    }
    let nl = this.text.indexOf('\n');
    while (nl >= 0) {
      this.line(this.text.slice(0, nl));
      this.text = this.text.slice(nl + 1);
      nl = this.text.indexOf('\n');
    }
  }

  private line(raw: string): void {
    const host = fpingLineHost(raw);
    const parsed = parseFpingLine(raw);
    if (host === null) return;
    if (parsed.kind === 'unresolved') this.unresolved.add(host);
    this.tallies.get(host)?.add(parsed);
  }
}
