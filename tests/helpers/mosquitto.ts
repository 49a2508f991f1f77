import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, waitForPort } from './net.js';
import { tempDir } from './tmp.js';

export interface MosquittoOptions {
  /** Extra lines for mosquitto.conf (e.g. a TLS listener, password_file). */
  extraConfig?: string[];
  /** Anonymous clients allowed on the plain listener (default true). */
  allowAnonymous?: boolean;
  /** Extra files written into the broker's folder before start (name → content). */
  files?: Record<string, string>;
  /** Authentication and authorisation files (absolute paths): `password_file`, `acl_file`. */
  passwordFile?: string;
  aclFile?: string;
  /** A second listener with TLS 1.2+ on `tlsPort` (PEM files, absolute paths). */
  tls?: { caFile: string; certFile: string; keyFile: string };
}

/**
 * A real Mosquitto broker for one test file, on its own free port, with its own config and
 * persistence folder, so a test can stop, restart and kill it without touching anyone else.
 */
export class TestBroker {
  readonly dir: string;
  port = 0;
  /** The TLS listener's port (with `tls`); set it before start() to know it in advance. */
  tlsPort = 0;
  private proc: ChildProcess | undefined;
  private readonly cleanupDir: () => void;
  private readonly options: MosquittoOptions;
  log = '';

  constructor(options: MosquittoOptions = {}) {
    const t = tempDir('kgw-mosq-');
    this.dir = t.path;
    this.cleanupDir = t.cleanup;
    this.options = options;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  get tlsUrl(): string {
    return `mqtts://127.0.0.1:${this.tlsPort}`;
  }

  get running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async start(): Promise<void> {
    if (this.port === 0) this.port = await freePort();
    const tls = this.options.tls;
    if (tls && this.tlsPort === 0) this.tlsPort = await freePort();
    mkdirSync(join(this.dir, 'data'), { recursive: true });
    for (const [name, content] of Object.entries(this.options.files ?? {})) {
      writeFileSync(join(this.dir, name), content, { mode: 0o644 });
    }
    const conf = [
      `listener ${this.port} 127.0.0.1`,
      `allow_anonymous ${this.options.allowAnonymous === false ? 'false' : 'true'}`,
      // Run as whoever started it (root in CI) so it can write its own temp persistence dir.
      'user root',
      'persistence true',
      `persistence_location ${join(this.dir, 'data')}/`,
      'autosave_interval 1',
      'log_dest stdout',
      'log_type error',
      'log_type warning',
      'log_type notice',
      'max_inflight_messages 0',
      'max_queued_messages 0',
      ...(this.options.passwordFile ? [`password_file ${this.options.passwordFile}`] : []),
      ...(this.options.aclFile ? [`acl_file ${this.options.aclFile}`] : []),
      ...(tls
        ? [
            `listener ${this.tlsPort} 127.0.0.1`,
            `cafile ${tls.caFile}`,
            `certfile ${tls.certFile}`,
            `keyfile ${tls.keyFile}`,
            'tls_version tlsv1.2',
          ]
        : []),
      ...(this.options.extraConfig ?? []),
    ];
    const confPath = join(this.dir, 'mosquitto.conf');
    writeFileSync(confPath, `${conf.join('\n')}\n`);
    const proc = spawn('mosquitto', ['-c', confPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout?.on('data', (d: Buffer) => {
      this.log += d.toString();
    });
    proc.stderr?.on('data', (d: Buffer) => {
      this.log += d.toString();
    });
    this.proc = proc;
    await waitForPort(this.port);
    if (tls) await waitForPort(this.tlsPort);
  }

  /** The broker's process id while it runs (for a reload command such as `kill -HUP <pid>`). */
  get pid(): number | undefined {
    return this.running ? this.proc?.pid : undefined;
  }

  /**
   * SIGHUP: Mosquitto reads its password and ACL files and its CRL again (2.0.11, tested in
   * tests/regency/rotation.test.ts); connected clients stay.
   */
  reload(): void {
    this.proc?.kill('SIGHUP');
  }

  /** Clean stop (SIGTERM): the broker saves its persistence file. */
  async stop(): Promise<void> {
    await this.signal('SIGTERM');
  }

  /** Crash (SIGKILL). */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async dispose(): Promise<void> {
    await this.signal('SIGKILL');
    this.cleanupDir();
  }

  private signal(sig: NodeJS.Signals): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill(sig);
    });
  }
}
