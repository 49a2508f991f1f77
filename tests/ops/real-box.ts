import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { stringify } from 'yaml';
import { getHealth, type HealthAnswer, waitHealthy } from '../../src/upgrade/health-wait.js';
import { processAlive } from '../../src/upgrade/journal.js';
import { ProcessRestarter } from '../../src/upgrade/restarter.js';
import { freePort } from '../helpers/net.js';

/** Usage events the kiosk pushes before the upgrade: every one must be there after it. */
export const EVENTS = 200;
const TOKEN = 'token-adm-1-upgrade-release-test';

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface DbState {
  schema: number;
  tables: string[];
  events: string[];
  integrity: string;
}

/**
 * A staged root with a real release installed (a hard-linked copy of an unpacked bundle in
 * releases/<version>, `current` pointing at it), the real daemon run from it as the upgrader's
 * process restarter runs it (as ExecStart would), reporting to a real broker, and the real
 * `kampung-gw upgrade` of whatever `current` names (what kampung-gw.sh runs on a box).
 */
export class RealBox {
  readonly appDir: string;
  readonly dataDir: string;
  readonly configPath: string;
  readonly restarter: ProcessRestarter;
  port = 0;

  constructor(
    readonly root: string,
    private readonly o: { gatewayId: string; brokerUrl: string; healthTimeoutS: number },
  ) {
    this.appDir = join(root, 'opt', 'kampung-gateway');
    this.dataDir = join(root, 'var', 'lib', 'kampung-gateway');
    this.configPath = join(root, 'etc', 'kampung-gateway', 'config.yaml');
    this.restarter = new ProcessRestarter({
      appDir: this.appDir,
      configPath: this.configPath,
      pidFile: join(root, 'run', 'kampung-gateway.pid'),
      logFile: join(root, 'var', 'log', 'kampung-gateway.log'),
    });
  }

  get gatewayId(): string {
    return this.o.gatewayId;
  }

  get healthUrl(): string {
    return `http://127.0.0.1:${this.port}/healthz`;
  }

  /** Installs `unpacked` (a bundle's top folder) as `version`, starts it, pushes the events. */
  async install(unpacked: string, version: string): Promise<void> {
    this.port = await freePort();
    mkdirSync(join(this.appDir, 'releases'), { recursive: true });
    mkdirSync(this.dataDir, { recursive: true });
    mkdirSync(join(this.root, 'etc', 'kampung-gateway'), { recursive: true });
    const tokenFile = join(this.root, 'etc', 'kampung-gateway', 'adm-1.token');
    writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    writeFileSync(
      this.configPath,
      stringify({
        gateway: { id: this.o.gatewayId, name: 'Desa Uji Upgrade' },
        data_dir: this.dataDir,
        http: { listen: `127.0.0.1:${this.port}`, metrics: true },
        uplink: { probes: [] },
        devices: [{ id: 'adm-1', name: 'Anjungan 1', kind: 'kiosk', token_file: tokenFile }],
        cache: { max_mb: 16, upstreams: [] },
        mqtt: { url: this.o.brokerUrl, connect_delay_max_s: 0, reconnect_max_s: 2 },
        upgrade: { health_timeout_s: this.o.healthTimeoutS },
      }),
    );
    execFileSync('cp', ['-al', unpacked, join(this.appDir, 'releases', version)]);
    execFileSync('ln', ['-s', `releases/${version}`, join(this.appDir, 'current')]);
    await this.restarter.start();
    const h = await waitHealthy({ url: this.healthUrl, version, timeoutMs: 60_000, requireMqtt: true });
    if (!h.healthy) throw new Error(`${version} did not start: ${JSON.stringify(h)}\n${this.log()}`);
    const events = Array.from({ length: EVENTS }, (_, i) => ({
      id: randomUUID(),
      type: 'service_use',
      service: i % 2 ? 'ktp' : 'kk',
      outcome: 'ok',
    }));
    const res = await fetch(`http://127.0.0.1:${this.port}/api/v1/devices/adm-1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events }),
    });
    if (res.status !== 202) throw new Error(`events refused: ${res.status} ${await res.text()}`);
  }

  /** `kampung-gw upgrade ARGS` with the installed release's own node and code. */
  cli(args: string[], env: Record<string, string> = {}, onStderr?: (text: string) => void): Promise<CliRun> {
    const current = join(this.appDir, 'current');
    return new Promise((resolve) => {
      const p = spawn(
        join(current, 'node', 'bin', 'node'),
        [join(current, 'dist', 'main.js'), 'upgrade', '--root', this.root, '--restarter', 'process', ...args],
        { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (c: Buffer) => (stdout += c));
      p.stderr.on('data', (c: Buffer) => {
        stderr += c;
        onStderr?.(stderr);
      });
      p.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    });
  }

  health(): Promise<HealthAnswer | undefined> {
    return getHealth(this.healthUrl, 2000);
  }

  /** Waits until the box answers /healthz ok with some version (undefined: none within the time). */
  async serving(timeoutMs = 60_000): Promise<HealthAnswer | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const h = await this.health();
      if (h?.ok) return h;
      await new Promise((r) => setTimeout(r, 100));
    }
    return undefined;
  }

  link(name: 'current' | 'previous'): string | undefined {
    try {
      return readlinkSync(join(this.appDir, name));
    } catch {
      return undefined;
    }
  }

  releases(): string[] {
    return readdirSync(join(this.appDir, 'releases')).sort();
  }

  journalPending(): boolean {
    return existsSync(join(this.appDir, 'upgrade', 'journal.json'));
  }

  pid(): number {
    return Number.parseInt(readFileSync(join(this.root, 'run', 'kampung-gateway.pid'), 'utf8'), 10);
  }

  /** The database as a reader sees it: schema version, tables, the kiosk's event ids, integrity. */
  db(): DbState {
    const db = new BetterSqlite3(join(this.dataDir, 'gateway.db'), { readonly: true });
    try {
      db.pragma('busy_timeout = 5000');
      return {
        schema: db.pragma('user_version', { simple: true }) as number,
        // Not SQLite's own statistics (PRAGMA optimize may add sqlite_stat1 at any close).
        tables: db
          .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_stat%' ORDER BY name",
          )
          .pluck()
          .all() as string[],
        events: (db.prepare('SELECT id FROM usage_events ORDER BY id').pluck().all() as unknown[]).map(
          String,
        ),
        integrity: db.pragma('integrity_check', { simple: true }) as string,
      };
    } finally {
      db.close();
    }
  }

  /** A power cut for the service: SIGKILL, no clean stop; resolves once it is gone. */
  async killService(): Promise<void> {
    const pid = this.pid();
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
    while (processAlive(pid)) await new Promise((r) => setTimeout(r, 10));
  }

  log(): string {
    try {
      return readFileSync(join(this.root, 'var', 'log', 'kampung-gateway.log'), 'utf8').slice(-4000);
    } catch {
      return '';
    }
  }

  stop(): Promise<void> {
    return this.restarter.stop();
  }
}
