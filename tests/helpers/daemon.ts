import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { tempDir } from './tmp.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const MAIN_JS = join(REPO_ROOT, 'dist', 'main.js');

export type LogLine = Record<string, unknown> & { level?: string; msg?: string; component?: string };

export interface DaemonOptions {
  /** Merged (shallowly, per top-level key) over a minimal valid config. */
  config?: Record<string, unknown>;
  /** Re-use a folder (data dir + config) across restarts. */
  dir?: string;
  env?: NodeJS.ProcessEnv;
  /** Extra arguments before `run` (e.g. node flags). */
  nodeArgs?: string[];
  /** Wait for /healthz before resolving (default true). */
  waitHealthy?: boolean;
  timeoutMs?: number;
  /** Run inside this network namespace (full name, see NetnsLab.ns). Root only. */
  netns?: string;
  /** The program to run instead of this test's node (e.g. an installed release's node, or qemu). */
  command?: string;
  /** dist/main.js to run instead of the checkout's (e.g. an installed release's). */
  mainJs?: string;
}

export function baseConfig(dir: string): Record<string, unknown> {
  return {
    gateway: { id: '3510170012', name: 'Desa Kemiren (test)' },
    data_dir: join(dir, 'data'),
    log_level: 'info',
    http: { listen: '127.0.0.1:0', metrics: true },
    uplink: { probes: [] },
    devices: [],
    cache: { max_mb: 16, upstreams: [] },
  };
}

/**
 * Runs the built `kampung-gw run` as a child process with a generated config, reads its
 * JSON log from stdout, and finds its HTTP port from the "http listening" line.
 */
export class TestDaemon {
  readonly dir: string;
  readonly configPath: string;
  readonly options: DaemonOptions;
  proc: ChildProcess | undefined;
  port = 0;
  logs: LogLine[] = [];
  stderr = '';
  private readonly ownDir: (() => void) | undefined;
  private exitPromise: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;

  constructor(options: DaemonOptions = {}) {
    const mainJs = options.mainJs ?? MAIN_JS;
    if (!existsSync(mainJs)) throw new Error(`${mainJs} missing: run "npm run build" first`);
    this.options = options;
    if (options.dir) {
      this.dir = options.dir;
    } else {
      const t = tempDir('kgw-daemon-');
      this.dir = t.path;
      this.ownDir = t.cleanup;
    }
    mkdirSync(this.dir, { recursive: true });
    this.configPath = join(this.dir, 'config.yaml');
    writeFileSync(this.configPath, stringify({ ...baseConfig(this.dir), ...options.config }));
  }

  static async start(options: DaemonOptions = {}): Promise<TestDaemon> {
    const d = new TestDaemon(options);
    await d.start();
    return d;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get dataDir(): string {
    return join(this.dir, 'data');
  }

  /** Spawns the daemon; resolves when /healthz answers 200 (unless waitHealthy is false). */
  async start(): Promise<void> {
    this.logs = [];
    this.stderr = '';
    this.port = 0;
    const args = [
      ...(this.options.nodeArgs ?? []),
      this.options.mainJs ?? MAIN_JS,
      'run',
      '--config',
      this.configPath,
    ];
    // `ip netns exec` execs the command in place, so the child's pid is the daemon's own.
    const [cmd, argv] = this.options.netns
      ? ['ip', ['netns', 'exec', this.options.netns, process.execPath, ...args]]
      : [this.options.command ?? process.execPath, args];
    const proc = spawn(cmd as string, argv as string[], {
      env: { ...process.env, ...this.options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = proc;
    this.exitPromise = new Promise((resolve) =>
      proc.once('exit', (code, signal) => resolve({ code, signal })),
    );
    let buf = '';
    proc.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          const parsed = JSON.parse(line) as LogLine;
          this.logs.push(parsed);
          if (parsed.msg === 'http listening' && typeof parsed.port === 'number') this.port = parsed.port;
        } catch {
          this.logs.push({ msg: line });
        }
        nl = buf.indexOf('\n');
      }
    });
    proc.stderr?.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
    if (this.options.waitHealthy === false) return;
    await this.waitHealthy(this.options.timeoutMs ?? 10_000);
  }

  async waitHealthy(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.proc?.exitCode !== null && this.proc?.exitCode !== undefined) {
        throw new Error(
          `daemon exited with ${this.proc.exitCode}: ${this.stderr}\n${JSON.stringify(this.logs.slice(-5))}`,
        );
      }
      if (this.port) {
        try {
          const res = await fetch(`${this.url}/healthz`);
          if (res.status === 200) return;
        } catch {
          // not yet
        }
      }
      if (Date.now() > deadline) throw new Error(`daemon not healthy after ${timeoutMs} ms: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Resolves with the first log line matching, waiting up to timeoutMs. */
  async waitForLog(match: (l: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.logs.find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching log line in ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /**
   * The one-time setup code, as an installer gets it: once the daemon has logged that one is
   * waiting (the log never carries the code itself), from its 0600 file in the data dir.
   */
  async setupCode(): Promise<string> {
    await this.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('no technician account yet'));
    return readFileSync(join(this.dataDir, 'setup-code'), 'utf8').trim();
  }

  /** Sends a signal and waits for exit; returns exit code, signal and how long it took. */
  async stop(
    signal: NodeJS.Signals = 'SIGTERM',
    timeoutMs = 15_000,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
    const proc = this.proc;
    if (!proc || !this.exitPromise) return { code: null, signal: null, ms: 0 };
    const t0 = performance.now();
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    const r = await this.exitPromise;
    clearTimeout(timer);
    this.proc = undefined;
    return { ...r, ms: performance.now() - t0 };
  }

  kill(): Promise<unknown> {
    return this.stop('SIGKILL');
  }

  async dispose(): Promise<void> {
    await this.kill();
    this.ownDir?.();
  }
}
