import type { Kysely } from 'kysely';
import { GwError } from '../../core/errors.js';
import { checkName, checkPassword } from '../../web/auth/auth-service.js';
import { hashPassword } from '../../web/auth/password.js';
import { DEFAULT_ROLE, type Role, roleOf } from '../auth/roles.js';
import type { RegencyTables } from './schema.js';

/**
 * Regency accounts: the technician page's account model (same name rules, same scrypt
 * hashes from web/auth/password), stored in the regency's own store, SQLite or PostgreSQL.
 */
export class AccountsRepo {
  private readonly db: Kysely<RegencyTables>;

  constructor(deps: { db: Kysely<RegencyTables> }) {
    this.db = deps.db;
  }

  async exists(name: string): Promise<boolean> {
    return (
      (await this.db.selectFrom('accounts').select('id').where('name', '=', name).executeTakeFirst()) !==
      undefined
    );
  }

  async add(name: string, password: string, wallMs: number, role: Role = DEFAULT_ROLE): Promise<void> {
    checkName(name);
    checkPassword(password);
    const hash = await hashPassword(password);
    const r = await this.db
      .insertInto('accounts')
      .values({ name, password_hash: hash, created_ms: wallMs, updated_ms: wallMs, role })
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst();
    if (Number(r.numInsertedOrUpdatedRows ?? 0n) === 0)
      throw new GwError('GW_ERR_CONFLICT', `account ${name} already exists`);
  }

  async setPassword(name: string, password: string, wallMs: number): Promise<void> {
    checkPassword(password);
    const hash = await hashPassword(password);
    const r = await this.db
      .updateTable('accounts')
      .set({ password_hash: hash, updated_ms: wallMs })
      .where('name', '=', name)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) throw new GwError('GW_ERR_NOT_FOUND', `no account ${name}`);
  }

  /** Takes effect at the account's next request: sessions read the role each time. */
  async setRole(name: string, role: Role, wallMs: number): Promise<void> {
    const r = await this.db
      .updateTable('accounts')
      .set({ role, updated_ms: wallMs })
      .where('name', '=', name)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) throw new GwError('GW_ERR_NOT_FOUND', `no account ${name}`);
  }

  async roleOf(name: string): Promise<Role | undefined> {
    const r = await this.db.selectFrom('accounts').select('role').where('name', '=', name).executeTakeFirst();
    return r ? roleOf(r.role) : undefined;
  }

  async remove(name: string): Promise<void> {
    const r = await this.db.deleteFrom('accounts').where('name', '=', name).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw new GwError('GW_ERR_NOT_FOUND', `no account ${name}`);
  }

  async hashOf(name: string): Promise<string | undefined> {
    return (
      await this.db.selectFrom('accounts').select('password_hash').where('name', '=', name).executeTakeFirst()
    )?.password_hash;
  }
}
