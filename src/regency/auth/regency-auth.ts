import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../../core/clock.js';
import { GwError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { Scheduler, TaskHandle } from '../../core/scheduler.js';
import type { Service } from '../../core/service.js';
import { checkName, checkPassword } from '../../web/auth/auth-service.js';
import { DEFAULT_SCRYPT, hashPassword, type ScryptParams, verifyPassword } from '../../web/auth/password.js';
import type { RegencyTables } from '../store/schema.js';
import { type Role, roleOf } from './roles.js';
import { RegencySetupCodes } from './setup-codes.js';
import { LoginThrottle } from './throttle.js';

/** A NOC wall screen polls all day: the idle limit is a shift, the hard limit a week. */
export const SESSION_IDLE_MS = 12 * 3_600_000;
export const SESSION_MAX_MS = 7 * 86_400_000;

export interface RegencyAuthOptions {
  db: Kysely<RegencyTables>;
  clock: Clock;
  log: Logger;
  scheduler?: Scheduler;
  dataDir: string;
  idleMs?: number;
  maxMs?: number;
  scrypt?: ScryptParams;
  /** Shows a new setup code to a person at a terminal; never into the JSON log. */
  showSetupCode?(code: string, file: string): void;
}

export interface RegencySession {
  name: string;
  accountId: number;
  idleMs: number;
  role: Role;
}

export interface NewSession {
  token: string;
  csrf: string;
  name: string;
}

/**
 * Regency accounts on the fleet page: the technician page's model (web/auth: scrypt hashes,
 * name rules, one-time setup code, 5-failure throttle, CSRF derived from the session token)
 * over the regency's Kysely store, SQLite or PostgreSQL. Logins are logged by name and
 * outcome only.
 */
export class RegencyAuth implements Service {
  readonly name = 'auth';
  private readonly o: RegencyAuthOptions;
  private readonly db: Kysely<RegencyTables>;
  private readonly throttle: LoginThrottle;
  private readonly codes: RegencySetupCodes;
  private readonly scrypt: ScryptParams;
  readonly idleMs: number;
  private readonly maxMs: number;
  private dummy: Promise<string> | undefined;
  private task: TaskHandle | undefined;

  constructor(o: RegencyAuthOptions) {
    this.o = o;
    this.db = o.db;
    this.throttle = new LoginThrottle({ db: o.db, clock: o.clock });
    this.codes = new RegencySetupCodes({ db: o.db, dataDir: o.dataDir });
    this.scrypt = o.scrypt ?? DEFAULT_SCRYPT;
    this.idleMs = o.idleMs ?? SESSION_IDLE_MS;
    this.maxMs = o.maxMs ?? SESSION_MAX_MS;
  }

  async start(): Promise<void> {
    await this.prune();
    if ((await this.accountCount()) > 0) {
      await this.codes.consume();
      this.codes.removeFile();
    } else {
      const code = await this.codes.ensure();
      this.o.log.warn(
        { file: this.codes.file },
        'no regency account yet: a one-time setup code is waiting in the file named here',
      );
      this.o.showSetupCode?.(code, this.codes.file);
    }
    this.task = this.o.scheduler?.every({
      name: 'session-prune',
      intervalMs: 10 * 60_000,
      coarse: true,
      run: () => void this.prune().catch((err) => this.o.log.warn({ err }, 'session prune failed')),
    });
  }

  stop(): void {
    this.task?.cancel();
  }

  async setupPending(): Promise<boolean> {
    return (await this.accountCount()) === 0 && (await this.codes.pending());
  }

  async setup(code: string, name: string, password: string, source: string): Promise<NewSession> {
    const keys = [`addr:${source}`];
    if (await this.throttle.blocked(keys)) throw new GwError('GW_ERR_RATE_LIMITED');
    if ((await this.accountCount()) > 0 || !(await this.codes.matches(code))) {
      await this.throttle.fail(keys);
      this.o.log.info({ action: 'setup', outcome: 'refused', source }, 'setup refused');
      throw new GwError('GW_ERR_FORBIDDEN', 'setup code invalid or already used');
    }
    checkName(name);
    checkPassword(password);
    const hash = await hashPassword(password, this.scrypt);
    const now = this.o.clock.wallMs();
    // The code is retired in the same transaction that creates the account: of two setups
    // racing through scrypt, only the one that deletes the code's row goes on.
    const id = await this.db.transaction().execute(async (trx) => {
      if (!(await this.codes.consume(trx))) return undefined;
      const row = await trx
        .insertInto('accounts')
        .values({ name, password_hash: hash, created_ms: now, updated_ms: now })
        .returning('id')
        .executeTakeFirstOrThrow();
      return Number(row.id);
    });
    if (id === undefined) throw new GwError('GW_ERR_FORBIDDEN', 'setup code invalid or already used');
    this.codes.removeFile();
    this.o.log.info({ action: 'setup', outcome: 'ok', actor: name, source }, 'first regency account created');
    return this.createSession(id, name);
  }

  async login(name: string, password: string, source: string): Promise<NewSession> {
    const keys = [`user:${name}`, `addr:${source}`];
    if (await this.throttle.blocked(keys)) {
      this.o.log.info({ action: 'login', outcome: 'throttled', actor: name, source }, 'login throttled');
      throw new GwError('GW_ERR_RATE_LIMITED');
    }
    const account = await this.db
      .selectFrom('accounts')
      .select(['id', 'name', 'password_hash'])
      .where('name', '=', name)
      .executeTakeFirst();
    this.dummy ??= hashPassword('kampung-regency', this.scrypt);
    // An unknown name costs the same scrypt as a known one, so timing reveals no accounts.
    const ok = await verifyPassword(password, account?.password_hash ?? (await this.dummy));
    if (!account || !ok) {
      await this.throttle.fail(keys);
      this.o.log.info({ action: 'login', outcome: 'bad_password', actor: name, source }, 'login refused');
      throw new GwError('GW_ERR_UNAUTHORIZED', 'wrong name or password');
    }
    await this.throttle.clear(`user:${name}`);
    this.o.log.info({ action: 'login', outcome: 'ok', actor: name, source }, 'login');
    return this.createSession(Number(account.id), account.name);
  }

  /** The session a cookie token names, if still valid; refreshes its idle stamp now and then. */
  async validate(token: string): Promise<RegencySession | undefined> {
    const tokenHash = sha256(token);
    const row = await this.db
      .selectFrom('sessions')
      .innerJoin('accounts', 'accounts.id', 'sessions.account_id')
      .select([
        'sessions.account_id',
        'accounts.name',
        'accounts.role',
        'sessions.created_ms',
        'sessions.last_ms',
      ])
      .where('sessions.token_hash', '=', tokenHash)
      .executeTakeFirst();
    if (!row) return undefined;
    const now = this.o.clock.wallMs();
    if (now - row.last_ms > this.idleMs || now - row.created_ms > this.maxMs) {
      await this.db.deleteFrom('sessions').where('token_hash', '=', tokenHash).execute();
      return undefined;
    }
    // The wall polls every few seconds; a coarse idle stamp is enough.
    if (now - row.last_ms > 60_000)
      await this.db
        .updateTable('sessions')
        .set({ last_ms: now })
        .where('token_hash', '=', tokenHash)
        .execute();
    return { name: row.name, accountId: Number(row.account_id), idleMs: this.idleMs, role: roleOf(row.role) };
  }

  async logout(token: string, source: string): Promise<void> {
    const s = await this.validate(token);
    await this.db.deleteFrom('sessions').where('token_hash', '=', sha256(token)).execute();
    if (s) this.o.log.info({ action: 'logout', outcome: 'ok', actor: s.name, source }, 'logout');
  }

  /** Derived from the session token, so nothing extra is stored and it dies with the session. */
  csrfFor(token: string): string {
    return createHmac('sha256', token).update('kampung-regency csrf').digest('base64url');
  }

  private async accountCount(): Promise<number> {
    const r = await this.db
      .selectFrom('accounts')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  private async createSession(accountId: number, name: string): Promise<NewSession> {
    const token = randomBytes(32).toString('base64url');
    const now = this.o.clock.wallMs();
    await this.db
      .insertInto('sessions')
      .values({ token_hash: sha256(token), account_id: accountId, created_ms: now, last_ms: now })
      .execute();
    return { token, csrf: this.csrfFor(token), name };
  }

  private async prune(): Promise<void> {
    const now = this.o.clock.wallMs();
    await this.db
      .deleteFrom('sessions')
      .where((eb) => eb.or([eb('last_ms', '<', now - this.idleMs), eb('created_ms', '<', now - this.maxMs)]))
      .execute();
  }
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('base64url');
}
