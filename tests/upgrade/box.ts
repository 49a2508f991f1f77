import { execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { getHealth, waitHealthy } from '../../src/upgrade/health-wait.js';
import { ProcessRestarter } from '../../src/upgrade/restarter.js';
import { MAIN_JS } from '../helpers/daemon.js';
import { SQLITE_MODULE } from './fake-bundle.js';

export const PRECIOUS = 200;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * A staged box: <root>/opt/kampung-gateway/releases/<v> with current, the config in
 * <root>/etc/kampung-gateway/config.yaml, the data dir, and the service run as a detached
 * process (the upgrader's process restarter, as on a box without systemd).
 */
export class StagedBox {
  readonly root: string;
  readonly appDir: string;
  readonly dataDir: string;
  readonly configPath: string;
  readonly pubkey: string;
  port = 0;
  readonly restarter: ProcessRestarter;

  constructor(root: string, pubkeyPem: string) {
    this.root = root;
    this.appDir = join(root, 'opt', 'kampung-gateway');
    this.dataDir = join(root, 'var', 'lib', 'kampung-gateway');
    this.configPath = join(root, 'etc', 'kampung-gateway', 'config.yaml');
    this.pubkey = join(root, 'release.pub');
    writeFileSync(this.pubkey, pubkeyPem);
    this.restarter = new ProcessRestarter({
      appDir: this.appDir,
      configPath: this.configPath,
      pidFile: join(root, 'run', 'kampung-gateway.pid'),
      logFile: join(root, 'var', 'log', 'kampung-gateway.log'),
    });
  }

  get healthUrl(): string {
    return `http://127.0.0.1:${this.port}/healthz`;
  }

  /** Installs the first release by hand (as install.sh --bundle would), starts it, adds data. */
  async install(bundle: string, version: string): Promise<void> {
    this.port = await freePort();
    mkdirSync(join(this.appDir, 'releases'), { recursive: true });
    mkdirSync(this.dataDir, { recursive: true });
    mkdirSync(join(this.root, 'etc', 'kampung-gateway'), { recursive: true });
    writeFileSync(
      this.configPath,
      `${JSON.stringify({ data_dir: this.dataDir, http: { listen: `127.0.0.1:${this.port}` } })}\n`,
    );
    const tmp = join(this.appDir, 'releases', '.unpack');
    mkdirSync(tmp);
    execFileSync('tar', ['-xzf', bundle, '-C', tmp]);
    const [top] = readdirSync(tmp);
    renameSync(join(tmp, top ?? ''), join(this.appDir, 'releases', version));
    execFileSync('rmdir', [tmp]);
    execFileSync('ln', ['-s', `releases/${version}`, join(this.appDir, 'current')]);
    process.env.KGW_TEST_SQLITE = SQLITE_MODULE;
    await this.restarter.start();
    const h = await waitHealthy({ url: this.healthUrl, version, timeoutMs: 30_000 });
    if (!h.healthy) throw new Error(`the first release did not start: ${JSON.stringify(h)}`);
    // The village's data, written while the daemon runs (WAL): it must survive everything.
    const db = new BetterSqlite3(join(this.dataDir, 'gateway.db'));
    db.pragma('busy_timeout = 5000');
    const ins = db.prepare('INSERT INTO notes (text) VALUES (?)');
    db.transaction(() => {
      for (let i = 0; i < PRECIOUS; i++) ins.run(`precious ${i}`);
    })();
    db.close();
  }

  /** `kampung-gw upgrade ...` on this root, as a child process. */
  cli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
    return new Promise((resolve) => {
      const p = spawn(
        process.execPath,
        [MAIN_JS, 'upgrade', '--root', this.root, '--restarter', 'process', '--pubkey', this.pubkey, ...args],
        {
          env: { ...process.env, KGW_TEST_SQLITE: SQLITE_MODULE, ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (c: Buffer) => (stdout += c));
      p.stderr.on('data', (c: Buffer) => (stderr += c));
      p.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    });
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

  /** What the box runs and holds now. */
  async state(): Promise<{
    current: string | undefined;
    serving: string | undefined;
    schema: number;
    precious: number;
    starts: string[];
  }> {
    const h = await getHealth(this.healthUrl, 2000);
    const db = new BetterSqlite3(join(this.dataDir, 'gateway.db'), { readonly: true });
    try {
      db.pragma('busy_timeout = 5000');
      const precious = (
        db.prepare("SELECT count(*) AS n FROM notes WHERE text LIKE 'precious %'").get() as {
          n: number;
        }
      ).n;
      const starts = (
        db.prepare("SELECT text FROM notes WHERE text LIKE 'started %' ORDER BY id").all() as {
          text: string;
        }[]
      ).map((r) => r.text);
      return {
        current: this.link('current'),
        serving: h?.ok ? h.version : undefined,
        schema: db.pragma('user_version', { simple: true }) as number,
        precious,
        starts,
      };
    } finally {
      db.close();
    }
  }

  stop(): Promise<void> {
    return this.restarter.stop();
  }

  /** A power cut for the service: SIGKILL, no clean stop (its WAL stays as it was). */
  killService(): void {
    const pid = Number.parseInt(readFileSync(join(this.root, 'run', 'kampung-gateway.pid'), 'utf8'), 10);
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  /** The boot after the cut: the service starts on whatever `current` names, as systemd would. */
  async boot(): Promise<void> {
    while (await getHealth(this.healthUrl, 200)) await new Promise((r) => setTimeout(r, 20));
    await this.restarter.start();
  }
}
