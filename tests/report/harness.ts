import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { baseConfig } from '../helpers/daemon.js';
import { waitFor } from '../helpers/net.js';

const HARNESS = fileURLToPath(new URL('./harness.mjs', import.meta.url));

export function reportConfig(dir: string, brokerUrl: string, mqtt: Record<string, unknown> = {}) {
  return {
    ...baseConfig(dir),
    mqtt: {
      url: brokerUrl,
      health_interval_s: 3600,
      connect_delay_max_s: 0,
      reconnect_min_s: 0.1,
      reconnect_max_s: 1,
      drain_per_s: 100000,
      ...mqtt,
    },
  };
}

/** The real app in a child process (tests/report/harness.mjs), driven over stdin. */
export class Harness {
  readonly dir: string;
  readonly configPath: string;
  proc: ChildProcess | undefined;
  acked: string[] = [];
  lines: string[] = [];
  stderr = '';
  runId = '';
  /** Commands written to this process (its line numbers start at 1 per start). */
  private written = 0;

  constructor(dir: string, config: Record<string, unknown>) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true });
    this.configPath = join(dir, 'config.yaml');
    writeFileSync(this.configPath, stringify(config));
  }

  async start(): Promise<void> {
    this.lines = [];
    this.written = 0;
    const proc = spawn(process.execPath, [HARNESS, this.configPath], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc = proc;
    let buf = '';
    proc.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split('\n');
      buf = parts.pop() ?? '';
      for (const l of parts) {
        if (l.startsWith('ACK ')) this.acked.push(l.slice(4));
        else this.lines.push(l);
      }
    });
    proc.stderr?.on('data', (d: Buffer) => {
      this.stderr += d.toString();
      if (this.stderr.length > 2_000_000) this.stderr = this.stderr.slice(-1_000_000);
    });
    const ready = await waitFor(() => this.lines.find((l) => l.startsWith('READY ')), 15_000);
    this.runId = ready.slice(6);
  }

  /** Sends one command and waits for its DONE/STATUS line. */
  async send(cmd: string, timeoutMs = 20_000): Promise<string> {
    // Lines are numbered by the harness, so a reply is never confused with an earlier one's.
    const k = ++this.written;
    this.proc?.stdin?.write(`${cmd}\n`);
    const verb = cmd.split(' ')[0];
    const done = `DONE ${verb} ${k}`;
    const status = `STATUS ${k} `;
    return waitFor(() => this.lines.find((l) => l === done || l.startsWith(status)), timeoutMs, 10);
  }

  /** Sends a command without waiting (to kill mid-write). */
  write(cmd: string): void {
    this.written++;
    this.proc?.stdin?.write(`${cmd}\n`);
  }

  async status(): Promise<Record<string, unknown>> {
    const line = await this.send('status');
    return JSON.parse(line.slice(line.indexOf('{'))) as Record<string, unknown>;
  }

  logs(): Array<Record<string, unknown>> {
    return this.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch {
          return {};
        }
      });
  }

  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.stdin?.write('stop\n');
    await exited;
    this.proc = undefined;
  }

  private async signal(sig: NodeJS.Signals): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill(sig);
    await exited;
  }
}
