import { createHash, randomInt } from 'node:crypto';
import type { Kysely } from 'kysely';
import { CODE_ALPHABET } from '../../web/auth/setup-code.js';
import type { RegencyTables } from '../store/schema.js';

/** 15 characters of a 31-letter alphabet: about 74 bits, typed on a phone in three groups. */
const LENGTH = 15;

export type RedeemRefusal = 'wrong' | 'used' | 'expired';
export type Redeemed = { ok: true; bundleDir: string } | { ok: false; why: RedeemRefusal };

/** Case, spaces and dashes do not matter when typing the code. */
export function normalizeBundleCode(code: string): string {
  return code.toUpperCase().replace(/[\s-]/g, '');
}

function digest(code: string): string {
  return createHash('sha256').update(normalizeBundleCode(code)).digest('hex');
}

export function newBundleCode(): string {
  let s = '';
  for (let i = 0; i < LENGTH; i++) s += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return `${s.slice(0, 5)}-${s.slice(5, 10)}-${s.slice(10)}`;
}

/**
 * One-time codes a box fetches its bundle with. Only the code's SHA-256 is stored (it is
 * random, ~74 bits, and lives minutes: a slow hash adds nothing); a new code for a village
 * withdraws the ones not yet used; redeeming marks the code used in the same statement that
 * checks it, so two requests racing with one code cannot both win. Every step is audited.
 */
export class BundleCodes {
  private readonly db: Kysely<RegencyTables>;

  constructor(deps: { db: Kysely<RegencyTables> }) {
    this.db = deps.db;
  }

  async issue(village: string, bundleDir: string, nowMs: number, ttlMs: number): Promise<string> {
    const code = newBundleCode();
    await this.db.transaction().execute(async (trx) => {
      const withdrawn = await trx
        .deleteFrom('bundle_codes')
        .where('code', '=', village)
        .where('used_ms', 'is', null)
        .executeTakeFirst();
      await trx
        .insertInto('bundle_codes')
        .values({
          hash: digest(code),
          code: village,
          bundle_dir: bundleDir,
          created_ms: nowMs,
          expires_ms: nowMs + ttlMs,
          used_ms: null,
        })
        .execute();
      const detail = `valid until ${new Date(nowMs + ttlMs).toISOString()}${
        Number(withdrawn.numDeletedRows) > 0 ? '; earlier unused code withdrawn' : ''
      }`;
      await trx
        .insertInto('provision_audit')
        .values({ at_ms: nowMs, code: village, event: 'issued', source: 'cli', detail })
        .execute();
    });
    return code;
  }

  /** Uses the code for this village, once; a wrong, used or expired code is refused (and audited). */
  async redeem(village: string, code: string, nowMs: number, source: string): Promise<Redeemed> {
    const hash = digest(code);
    const used = await this.db
      .updateTable('bundle_codes')
      .set({ used_ms: nowMs })
      .where('hash', '=', hash)
      .where('code', '=', village)
      .where('used_ms', 'is', null)
      .where('expires_ms', '>', nowMs)
      .returning('bundle_dir')
      .executeTakeFirst();
    if (used) {
      await this.audit(village, 'fetched', source, 'bundle served', nowMs);
      return { ok: true, bundleDir: used.bundle_dir };
    }
    const row = await this.db
      .selectFrom('bundle_codes')
      .select(['used_ms', 'expires_ms'])
      .where('hash', '=', hash)
      .where('code', '=', village)
      .executeTakeFirst();
    const why: RedeemRefusal = !row ? 'wrong' : row.used_ms !== null ? 'used' : 'expired';
    await this.audit(village, 'refused', source, why, nowMs);
    return { ok: false, why };
  }

  async audit(village: string, event: string, source: string, detail: string, nowMs: number): Promise<void> {
    await this.db
      .insertInto('provision_audit')
      .values({ at_ms: nowMs, code: village, event, source, detail })
      .execute();
  }

  history(village: string) {
    return this.db
      .selectFrom('provision_audit')
      .select(['at_ms', 'event', 'source', 'detail'])
      .where('code', '=', village)
      .orderBy('id')
      .execute();
  }
}
