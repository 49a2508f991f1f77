import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { writeDurable } from './durable-fs.js';
import { processAlive } from './journal.js';

const execFileP = promisify(execFile);

/** Stops and starts the gateway service: systemd on a box, a spawned process in tests. */
export interface Restarter {
  readonly kind: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** `systemctl stop|start kampung-gateway.service` (arguments, no shell). */
export class SystemdRestarter implements Restarter {
  readonly kind = 'systemd';
  private readonly unit: string;
  constructor(unit = 'kampung-gateway.service') {
    this.unit = unit;
  }
  async stop(): Promise<void> {
    await execFileP('systemctl', ['stop', this.unit]);
  }
  async start(): Promise<void> {
    // A unit that hit its start limit refuses to start until the failure is cleared.
    await execFileP('systemctl', ['reset-failed', this.unit]).catch(() => undefined);
    await execFileP('systemctl', ['start', this.unit]);
  }
}

export interface ProcessRestarterOptions {
  /** <root>/opt/kampung-gateway: runs current/node/bin/node current/dist/main.js. */
  appDir: string;
  configPath: string;
  /** Where the pid of the running daemon is kept. */
  pidFile: string;
  /** The daemon's stdout and stderr are appended here. */
  logFile: string;
  stopTimeoutMs?: number;
}

/**
 * The service as a plain detached process, as the unit's ExecStart runs it, for staged roots
 * and tests: it outlives the upgrader (a kill -9 of the upgrade leaves it running, as systemd
 * would), and its pid is kept in a file so the next upgrader can stop it.
 */
export class ProcessRestarter implements Restarter {
  readonly kind = 'process';
  private readonly o: ProcessRestarterOptions;
  constructor(o: ProcessRestarterOptions) {
    this.o = o;
  }

  private pid(): number | undefined {
    if (!existsSync(this.o.pidFile)) return undefined;
    const pid = Number.parseInt(readFileSync(this.o.pidFile, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  }

  async stop(): Promise<void> {
    const pid = this.pid();
    if (pid === undefined || !processAlive(pid)) return;
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + (this.o.stopTimeoutMs ?? 15_000);
    while (processAlive(pid) && Date.now() < deadline) await sleep(20);
    if (processAlive(pid)) {
      process.kill(pid, 'SIGKILL');
      while (processAlive(pid)) await sleep(20);
    }
  }

  /** Like `systemctl start`: nothing to do when the daemon already runs. */
  async start(): Promise<void> {
    const running = this.pid();
    if (running !== undefined && processAlive(running)) return;
    const current = join(this.o.appDir, 'current');
    mkdirSync(dirname(this.o.logFile), { recursive: true });
    const log = openSync(this.o.logFile, 'a');
    try {
      const child = spawn(
        join(current, 'node', 'bin', 'node'),
        ['--max-semi-space-size=4', join(current, 'dist', 'main.js'), 'run', '--config', this.o.configPath],
        { cwd: current, detached: true, stdio: ['ignore', log, log] },
      );
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
      // Reaped by this process while it lives, so a dead daemon never looks alive as a zombie.
      child.on('exit', () => undefined);
      child.unref();
      if (child.pid === undefined) throw new Error('the daemon did not start');
      mkdirSync(dirname(this.o.pidFile), { recursive: true });
      writeDurable(this.o.pidFile, `${child.pid}\n`);
    } finally {
      closeSync(log);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
