import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { Clock } from '../../core/clock.js';
import { GwError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { Scheduler, TaskHandle } from '../../core/scheduler.js';
import type { Service } from '../../core/service.js';
import { FailureThrottle, LOGIN_POLICY } from '../../store/failure-throttle.js';
import { MetaRepo } from '../../store/meta-repo.js';
import type { Store } from '../../store/store.js';
import { AuditRepo } from './audit-repo.js';
import { DEFAULT_SCRYPT, hashPassword, type ScryptParams, verifyPassword } from './password.js';
import { SessionsRepo } from './sessions-repo.js';
import { SetupCodes, setupCodePath } from './setup-code.js';
import { TechniciansRepo } from './technicians-repo.js';

export const NAME_PATTERN = '^[a-z0-9][a-z0-9._-]{1,31}$';
const NAME_RE = new RegExp(NAME_PATTERN);

export interface AuthOptions {
  store: Store;
  clock: Clock;
  log: Logger;
  scheduler?: Scheduler;
  dataDir: string;
  idleMs: number;
  maxMs: number;
  scrypt?: ScryptParams;
  /**
   * Shows a new setup code to a person at a terminal (run.ts: only when stdout is a TTY).
   * The code never goes into the log: journald is readable by the `adm` group.
   */
  showSetupCode?(code: string, file: string): void;
}

export interface SessionInfo {
  name: string;
  technicianId: number;
  tokenHash: string;
  idleMs: number;
}

export interface NewSession {
  token: string;
  csrf: string;
  name: string;
}

/**
 * Technician accounts, the one-time setup code, logins with a throttle, and server-side
 * sessions whose expiry runs on the monotonic clock. Every login and setup is audited
 * (names and outcomes only).
 */
export class AuthService implements Service {
  readonly name = 'auth';
  readonly audit: AuditRepo;
  readonly technicians: TechniciansRepo;
  private readonly o: AuthOptions;
  private readonly sessions: SessionsRepo;
  private readonly throttle: FailureThrottle;
  private readonly setupCodes: SetupCodes;
  private readonly scrypt: ScryptParams;
  private dummy: Promise<string> | undefined;
  private task: TaskHandle | undefined;

  constructor(o: AuthOptions) {
    this.o = o;
    const db = () => o.store.db;
    this.audit = new AuditRepo({ db, clock: o.clock });
    this.technicians = new TechniciansRepo({ db });
    this.sessions = new SessionsRepo({ db });
    this.throttle = new FailureThrottle({ db, clock: o.clock, policy: LOGIN_POLICY });
    this.setupCodes = new SetupCodes({ meta: new MetaRepo({ db }), dataDir: o.dataDir });
    this.scrypt = o.scrypt ?? DEFAULT_SCRYPT;
  }

  start(): void {
    this.prune();
    if (this.technicians.count() > 0) {
      this.clearSetupCode();
    } else {
      const code = this.setupCodes.ensure();
      const file = setupCodePath(this.o.dataDir);
      this.o.log.warn(
        { file },
        'no technician account yet: a one-time setup code is waiting; show it with `sudo kampung-gw setup-code`',
      );
      this.o.showSetupCode?.(code, file);
    }
    this.task = this.o.scheduler?.every({
      name: 'session-prune',
      intervalMs: 10 * 60_000,
      run: () => void this.prune(),
    });
  }

  stop(): void {
    this.task?.cancel();
  }

  setupPending(): boolean {
    return this.technicians.count() === 0 && this.setupCodes.pending();
  }

  async setup(code: string, name: string, password: string, source: string): Promise<NewSession> {
    const keys = [`addr:${source}`];
    if (this.throttle.blocked(keys)) {
      this.audit.add({ actor: null, action: 'setup', outcome: 'throttled', source });
      throw new GwError('GW_ERR_RATE_LIMITED');
    }
    if (this.technicians.count() > 0 || !this.setupCodes.matches(code)) {
      this.throttle.fail(keys);
      this.audit.add({ actor: null, action: 'setup', outcome: 'refused', source });
      throw new GwError('GW_ERR_FORBIDDEN', 'setup code invalid or already used');
    }
    checkName(name);
    checkPassword(password);
    const hash = await hashPassword(password, this.scrypt);
    // Re-checked inside the transaction: two setups racing through scrypt, only one wins.
    const id = this.o.store.durable(() => {
      if (this.technicians.count() > 0 || !this.setupCodes.pending()) return undefined;
      const newId = this.technicians.add(name, hash, this.o.clock.wallMs());
      this.setupCodes.consume();
      this.audit.add({ actor: name, action: 'setup', outcome: 'ok', source });
      return newId;
    });
    if (id === undefined) throw new GwError('GW_ERR_FORBIDDEN', 'setup code invalid or already used');
    this.setupCodes.removeFile();
    this.o.log.info('first technician account created; setup code retired');
    return this.createSession(id, name);
  }

  async login(name: string, password: string, source: string): Promise<NewSession> {
    const keys = [`user:${name}`, `addr:${source}`];
    if (this.throttle.blocked(keys)) {
      this.audit.add({ actor: name, action: 'login', outcome: 'throttled', source });
      throw new GwError('GW_ERR_RATE_LIMITED');
    }
    const tech = this.technicians.byName(name);
    this.dummy ??= hashPassword('kampung-gateway', this.scrypt);
    // An unknown name costs the same scrypt as a known one, so timing reveals no accounts.
    const ok = await verifyPassword(password, tech?.password_hash ?? (await this.dummy));
    if (!tech || !ok) {
      this.throttle.fail(keys);
      this.audit.add({ actor: name, action: 'login', outcome: 'bad_password', source });
      throw new GwError('GW_ERR_UNAUTHORIZED', 'wrong name or password');
    }
    this.throttle.clear(`user:${name}`);
    this.audit.add({ actor: name, action: 'login', outcome: 'ok', source });
    return this.createSession(tech.id, tech.name);
  }

  /** The session a cookie token names, if still valid; refreshes its idle timer. */
  validate(token: string, touch = true): SessionInfo | undefined {
    const tokenHash = sha256(token);
    const row = this.sessions.get(tokenHash);
    if (!row) return undefined;
    const c = this.o.clock;
    const mono = c.monoMs();
    const expired =
      row.kernel_boot !== c.kernelBootId ||
      mono - row.last_mono > this.o.idleMs ||
      mono - row.created_mono > this.o.maxMs;
    if (expired) {
      this.sessions.delete(tokenHash);
      return undefined;
    }
    // Writing on every request would wear the SD card; a coarse idle stamp is enough.
    if (touch && mono - row.last_mono > Math.min(30_000, this.o.idleMs / 4)) {
      this.sessions.touch(tokenHash, mono);
    }
    return { name: row.name, technicianId: row.technician_id, tokenHash, idleMs: this.o.idleMs };
  }

  logout(token: string, source: string): void {
    const s = this.sessions.get(sha256(token));
    this.sessions.delete(sha256(token));
    if (s) this.audit.add({ actor: s.name, action: 'logout', outcome: 'ok', source });
  }

  /** Derived from the session token, so nothing extra is stored and it dies with the session. */
  csrfFor(token: string): string {
    return createHmac('sha256', token).update('kampung-gw csrf').digest('base64url');
  }

  async addTechnician(name: string, password: string): Promise<void> {
    checkName(name);
    checkPassword(password);
    if (this.technicians.byName(name)) throw new GwError('GW_ERR_CONFLICT', `technician ${name} exists`);
    const hash = await hashPassword(password, this.scrypt);
    this.o.store.durable(() => {
      this.technicians.add(name, hash, this.o.clock.wallMs());
      this.setupCodes.consume();
      this.audit.add({ actor: name, action: 'user_add', outcome: 'ok', source: 'cli' });
    });
    this.setupCodes.removeFile();
  }

  async setPassword(name: string, password: string): Promise<void> {
    checkPassword(password);
    const hash = await hashPassword(password, this.scrypt);
    const ok = this.o.store.durable(() => {
      const changed = this.technicians.setPassword(name, hash, this.o.clock.wallMs());
      if (changed) this.audit.add({ actor: name, action: 'user_passwd', outcome: 'ok', source: 'cli' });
      return changed;
    });
    if (!ok) throw new GwError('GW_ERR_NOT_FOUND', `no technician ${name}`);
  }

  removeTechnician(name: string): void {
    const ok = this.o.store.durable(() => {
      const removed = this.technicians.remove(name);
      if (removed) this.audit.add({ actor: name, action: 'user_remove', outcome: 'ok', source: 'cli' });
      return removed;
    });
    if (!ok) throw new GwError('GW_ERR_NOT_FOUND', `no technician ${name}`);
  }

  private createSession(technicianId: number, name: string): NewSession {
    const token = randomBytes(32).toString('base64url');
    const c = this.o.clock;
    const mono = c.monoMs();
    this.sessions.insert(
      {
        token_hash: sha256(token),
        technician_id: technicianId,
        kernel_boot: c.kernelBootId,
        created_mono: mono,
        last_mono: mono,
      },
      c.wallMs(),
    );
    return { token, csrf: this.csrfFor(token), name };
  }

  private prune(): void {
    const c = this.o.clock;
    this.sessions.prune(c.kernelBootId, c.monoMs(), this.o.idleMs, this.o.maxMs);
  }

  private clearSetupCode(): void {
    this.o.store.batch(() => this.setupCodes.consume());
    this.setupCodes.removeFile();
  }
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('base64url');
}

export function checkName(name: string): void {
  if (!NAME_RE.test(name)) {
    throw new GwError('GW_ERR_VALIDATION', 'name: 2–32 of a-z 0-9 . _ -, starting with a letter or digit');
  }
}

export function checkPassword(password: string): void {
  if (password.length < 8 || password.length > 256) {
    throw new GwError('GW_ERR_VALIDATION', 'password: 8 to 256 characters');
  }
}
