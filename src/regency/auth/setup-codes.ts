import { createHash, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Kysely } from 'kysely';
import { generateCode, normalizeCode, readCodeFile, setupCodePath } from '../../web/auth/setup-code.js';
import type { RegencyTables } from '../store/schema.js';

const KEY = 'setup_code_sha256';

/**
 * The regency's one-time setup code, as on the gateway (web/auth/setup-code: same alphabet,
 * same `<data_dir>/setup-code` file with mode 0600), with its SHA-256 in the regency store.
 */
export class RegencySetupCodes {
  private readonly db: Kysely<RegencyTables>;
  readonly file: string;

  constructor(deps: { db: Kysely<RegencyTables>; dataDir: string }) {
    this.db = deps.db;
    this.file = setupCodePath(deps.dataDir);
  }

  private async stored(db: Kysely<RegencyTables> = this.db): Promise<string | undefined> {
    return (await db.selectFrom('settings').select('value').where('name', '=', KEY).executeTakeFirst())
      ?.value;
  }

  async pending(db: Kysely<RegencyTables> = this.db): Promise<boolean> {
    return (await this.stored(db)) !== undefined;
  }

  /** Re-uses the stored code if its file still matches, else makes a new one. Returns the plaintext. */
  async ensure(): Promise<string> {
    const stored = await this.stored();
    const existing = readCodeFile(this.file);
    if (stored && existing && digest(existing) === stored) return existing;
    const code = generateCode();
    // With PostgreSQL nothing else creates data_dir.
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o750 });
    writeFileSync(this.file, `${code}\n`, { mode: 0o600 });
    chmodSync(this.file, 0o600);
    await this.db
      .insertInto('settings')
      .values({ name: KEY, value: digest(code) })
      .onConflict((oc) => oc.column('name').doUpdateSet({ value: digest(code) }))
      .execute();
    return code;
  }

  async matches(code: string): Promise<boolean> {
    const stored = await this.stored();
    if (!stored) return false;
    const a = Buffer.from(digest(code), 'hex');
    const b = Buffer.from(stored, 'hex');
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** Inside the transaction that creates the first account; true when this call retired it. */
  async consume(db: Kysely<RegencyTables> = this.db): Promise<boolean> {
    const r = await db.deleteFrom('settings').where('name', '=', KEY).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  removeFile(): void {
    rmSync(this.file, { force: true });
  }
}

function digest(code: string): string {
  return createHash('sha256').update(normalizeCode(code)).digest('hex');
}
