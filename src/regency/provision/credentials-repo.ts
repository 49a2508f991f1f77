import { type Kysely, sql, type Transaction } from 'kysely';
import { GwError } from '../../core/errors.js';
import type { RegencyTables } from '../store/schema.js';
import type { BrokerHash } from './broker-hash.js';

export type CredentialRole = 'village' | 'collector';

/** The audit source of a rotation the box confirmed itself (its birth named its new identity). */
export const BOX_SOURCE = 'box';

export interface BrokerCredential extends BrokerHash {
  username: string;
  role: CredentialRole;
  code: string | null;
  created_ms: number;
  rotated_ms: number;
  revoked_ms: number | null;
  cert_serial: string | null;
  cert_not_after_ms: number | null;
  /** Set while this is a rotation's new identity awaiting the box: the end of the grace. */
  grace_until_ms: number | null;
  /** When a later identity of the same village replaced this one. */
  retired_ms: number | null;
}

/** What the broker accepts: neither revoked nor retired (during a grace, two per village). */
export function isActive(c: BrokerCredential): boolean {
  return c.revoked_ms === null && c.retired_ms === null;
}

/**
 * The username a village's gateway connects with: `gw-<code>` for its first identity, then
 * `gw-<code>.<n>` for the n-th. A rotation needs a new name: Mosquitto keeps one hash per
 * username, so the old and the new secret can only both work under two names; and a name is
 * never used again, so an EMQX told to forget it never forgets a live one.
 */
export function villageUsername(code: string, generation = 1): string {
  return generation <= 1 ? `gw-${code}` : `gw-${code}.${generation}`;
}

function generationOf(username: string): number {
  const m = /\.(\d+)$/.exec(username);
  return m ? Number(m[1]) : 1;
}

function nextOf(code: string, rows: readonly BrokerCredential[]): string {
  if (rows.length === 0) return villageUsername(code);
  return villageUsername(code, Math.max(...rows.map((r) => generationOf(r.username))) + 1);
}

export interface IssuedIdentity {
  username: string;
  hash: BrokerHash;
  cert?: { serial: string; notAfterMs: number };
}

export interface IssueResult {
  action: 'created' | 'rotated';
  /** Set when the old identity stays valid beside the new one until then (or confirmation). */
  graceUntilMs: number | null;
  /** The identities this one replaced at once (none during a grace). */
  retired: string[];
}

type Db = Kysely<RegencyTables> | Transaction<RegencyTables>;

function row(r: RegencyTables['broker_credentials']): BrokerCredential {
  return {
    ...r,
    role: r.role as CredentialRole,
    created_ms: Number(r.created_ms),
    rotated_ms: Number(r.rotated_ms),
    revoked_ms: r.revoked_ms === null ? null : Number(r.revoked_ms),
    cert_not_after_ms: r.cert_not_after_ms === null ? null : Number(r.cert_not_after_ms),
    grace_until_ms: r.grace_until_ms === null ? null : Number(r.grace_until_ms),
    retired_ms: r.retired_ms === null ? null : Number(r.retired_ms),
  };
}

/**
 * Broker identities in the regency store (SQLite or PostgreSQL): hashes and their history.
 * Each change of a village's identities is one transaction with its audit row, so a kill
 * at any point leaves either the state before or the state after.
 */
export class CredentialsRepo {
  private readonly db: Kysely<RegencyTables>;

  constructor(deps: { db: Kysely<RegencyTables> }) {
    this.db = deps.db;
  }

  async all(): Promise<BrokerCredential[]> {
    const rows = await this.db.selectFrom('broker_credentials').selectAll().orderBy('username').execute();
    return rows.map(row);
  }

  async get(username: string): Promise<BrokerCredential | undefined> {
    const r = await this.db
      .selectFrom('broker_credentials')
      .selectAll()
      .where('username', '=', username)
      .executeTakeFirst();
    return r ? row(r) : undefined;
  }

  async ofVillage(code: string, db: Db = this.db): Promise<BrokerCredential[]> {
    const rows = await db
      .selectFrom('broker_credentials')
      .selectAll()
      .where('role', '=', 'village')
      .where('code', '=', code)
      .orderBy('created_ms')
      .execute();
    return rows.map(row);
  }

  /** The username the village's next identity gets (never one used before). */
  async nextUsername(code: string): Promise<string> {
    return nextOf(code, await this.ofVillage(code));
  }

  /** The collector's identity, made once (rotating it is the operator's, by hand). */
  async createCollector(username: string, h: BrokerHash, wallMs: number): Promise<void> {
    await this.insert(this.db, { username, role: 'collector', code: null, h, wallMs, graceUntilMs: null });
  }

  /**
   * A new identity for the village. With `graceUntilMs` and a current identity, the current
   * one stays valid beside the new one (a rotation awaiting the box), and so does an earlier
   * rotation still awaiting its box, until the new one is confirmed or its grace ends. Without, or when the village has nothing valid (new, or
   * revoked: a new box), every earlier identity is retired at once. The username must be
   * the village's next (read in the transaction), else GW_ERR_CONFLICT.
   */
  async issue(
    code: string,
    id: IssuedIdentity,
    wallMs: number,
    graceUntilMs: number | null,
    source: string,
  ): Promise<IssueResult> {
    return this.db.transaction().execute(async (trx) => {
      const rows = await this.ofVillage(code, trx);
      // The name is checked where it is taken: another writer may have issued it since.
      if (id.username !== nextOf(code, rows))
        throw new GwError('GW_ERR_CONFLICT', `${id.username} is not the next identity of village ${code}`);
      const active = rows.filter(isActive);
      const current = active.find((c) => c.grace_until_ms === null);
      const grace = current !== undefined && graceUntilMs !== null;
      // An earlier rotation still awaiting its box stays valid too (the box may run its bundle
      // already): no longer the one awaited, it is retired with the old one when the new one is
      // confirmed or its grace ends.
      const kept = grace ? active.filter((c) => c.grace_until_ms !== null) : [];
      const retire = grace ? [] : active;
      await this.retire(trx, retire, wallMs);
      if (kept.length > 0)
        await trx
          .updateTable('broker_credentials')
          .set({ grace_until_ms: null })
          .where(
            'username',
            'in',
            kept.map((c) => c.username),
          )
          .execute();
      await this.insert(trx, {
        username: id.username,
        role: 'village',
        code,
        h: id.hash,
        wallMs,
        graceUntilMs: grace ? graceUntilMs : null,
        ...(id.cert ? { cert: id.cert } : {}),
      });
      const action = rows.length === 0 ? 'created' : 'rotated';
      const detail = grace
        ? `${id.username} issued; ${current.username} stays valid until the box confirms or ${new Date(graceUntilMs).toISOString()}` +
          (kept.length > 0
            ? `; unconfirmed ${kept.map((r) => r.username).join(', ')} valid until then too`
            : '')
        : `${id.username} issued${retire.length > 0 ? `; ${retire.map((r) => r.username).join(', ')} retired at once` : ''}`;
      await audit(trx, code, grace ? 'rotating' : action, source, detail, wallMs);
      return {
        action,
        graceUntilMs: grace ? graceUntilMs : null,
        retired: retire.map((r) => r.username),
      };
    });
  }

  /**
   * Ends the village's grace: the identity awaiting the box becomes its only one and the old
   * is retired. `why`: confirmed (by the box or the operator) or expired (grace over).
   * With `expect`, only when that is the identity awaiting (a box's birth names the one it
   * used). Undefined when nothing (or another identity) awaits, or when a concurrent
   * transaction (another collector instance) finished it first.
   */
  async finishRotation(
    code: string,
    wallMs: number,
    why: 'confirmed' | 'expired',
    source: string,
    expect?: string,
  ): Promise<{ username: string; retired: string[] } | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const active = (await this.ofVillage(code, trx)).filter(isActive);
      const pending = active.find((c) => c.grace_until_ms !== null);
      if (!pending || (expect !== undefined && pending.username !== expect)) return undefined;
      // First, and only while still awaiting: of two transactions finishing the same rotation,
      // the second waits for this row and then finds nothing to do.
      const claimed = await trx
        .updateTable('broker_credentials')
        .set({ grace_until_ms: null, rotated_ms: wallMs })
        .where('username', '=', pending.username)
        .where('grace_until_ms', 'is not', null)
        .where('retired_ms', 'is', null)
        .where('revoked_ms', 'is', null)
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) !== 1) return undefined;
      const old = active.filter((c) => c !== pending);
      await this.retire(trx, old, wallMs);
      const retired = old.map((c) => c.username);
      const detail = `${pending.username} in use; ${retired.join(', ') || 'nothing'} retired${
        why === 'expired' ? ` (grace ended ${new Date(Number(pending.grace_until_ms)).toISOString()})` : ''
      }${source === BOX_SOURCE ? ` (the box's birth named ${pending.username})` : ''}`;
      await audit(trx, code, why === 'confirmed' ? 'confirmed' : 'grace-ended', source, detail, wallMs);
      return { username: pending.username, retired };
    });
  }

  /** Villages whose grace ended at or before `wallMs`. */
  async graceOver(wallMs: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('broker_credentials')
      .select('code')
      .where('grace_until_ms', '<=', wallMs)
      .where('revoked_ms', 'is', null)
      .where('retired_ms', 'is', null)
      .execute();
    return [...new Set(rows.flatMap((r) => (r.code === null ? [] : [r.code])))];
  }

  /**
   * Certificates to list in the CRL: those of revoked and retired identities (a rotation's
   * old certificate once the new one is confirmed), and those an earlier version replaced in
   * place (`superseded_certs`).
   */
  async revokedCerts(): Promise<
    Array<{ serial: string; username: string; notAfterMs: number; revokedMs: number }>
  > {
    const gone = (await this.all()).flatMap((c) =>
      c.cert_serial !== null && !isActive(c)
        ? [
            {
              serial: c.cert_serial,
              username: c.username,
              notAfterMs: Number(c.cert_not_after_ms),
              revokedMs: Number(c.revoked_ms ?? c.retired_ms),
            },
          ]
        : [],
    );
    const superseded = await this.db.selectFrom('superseded_certs').selectAll().execute();
    return [
      ...gone,
      ...superseded.map((r) => ({
        serial: r.serial,
        username: r.username,
        notAfterMs: Number(r.not_after_ms),
        revokedMs: Number(r.superseded_ms),
      })),
    ];
  }

  /** Revokes every valid identity of the village; false when it was never provisioned. */
  async revoke(code: string, wallMs: number, source = 'cli'): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const rows = await this.ofVillage(code, trx);
      if (rows.length === 0) return false;
      const active = rows.filter(isActive).map((c) => c.username);
      if (active.length > 0) {
        await trx
          .updateTable('broker_credentials')
          .set({ revoked_ms: wallMs })
          .where('username', 'in', active)
          .execute();
        await audit(trx, code, 'revoked', source, active.join(', '), wallMs);
      }
      return true;
    });
  }

  /** Villages revoked and not provisioned since (the collector refuses what still arrives from them). */
  async revokedCodes(): Promise<Set<string>> {
    return revokedVillages(await this.all());
  }

  private async retire(trx: Db, rows: readonly BrokerCredential[], wallMs: number): Promise<void> {
    if (rows.length === 0) return;
    await trx
      .updateTable('broker_credentials')
      .set({ retired_ms: wallMs, grace_until_ms: null })
      .where(
        'username',
        'in',
        rows.map((r) => r.username),
      )
      .execute();
  }

  private async insert(
    db: Db,
    v: {
      username: string;
      role: CredentialRole;
      code: string | null;
      h: BrokerHash;
      wallMs: number;
      graceUntilMs: number | null;
      cert?: { serial: string; notAfterMs: number };
    },
  ): Promise<void> {
    await db
      .insertInto('broker_credentials')
      .values({
        username: v.username,
        role: v.role,
        code: v.code,
        salt: v.h.salt,
        iterations: v.h.iterations,
        hash: v.h.hash,
        created_ms: v.wallMs,
        rotated_ms: v.wallMs,
        revoked_ms: null,
        cert_serial: v.cert?.serial ?? null,
        cert_not_after_ms: v.cert?.notAfterMs ?? null,
        grace_until_ms: v.graceUntilMs,
        retired_ms: null,
      })
      .execute();
  }
}

/**
 * Revoked villages and when (their latest revocation): a village code with a revoked identity
 * and none valid (one provisioned again is not revoked). One statement, portable SQL: the
 * SQLite ingest prepares this same text on its own handle (ingest-sqlite.ts).
 */
export const REVOKED_SQL = `SELECT code, MAX(revoked_ms) AS revoked_ms FROM broker_credentials
  WHERE role = 'village' AND revoked_ms IS NOT NULL AND code IS NOT NULL AND code NOT IN (
    SELECT code FROM broker_credentials WHERE code IS NOT NULL AND revoked_ms IS NULL AND retired_ms IS NULL)
  GROUP BY code`;

/** REVOKED_SQL's rows as code → revoked_ms. */
export function revokedMap(
  rows: ReadonlyArray<{ code: string; revoked_ms: number | string }>,
): Map<string, number> {
  return new Map(rows.map((r) => [r.code, Number(r.revoked_ms)]));
}

/** REVOKED_SQL, read in the caller's transaction. */
export async function readRevoked(db: Db): Promise<Map<string, number>> {
  const r = await sql<{ code: string; revoked_ms: number | string }>`${sql.raw(REVOKED_SQL)}`.execute(db);
  return revokedMap(r.rows);
}

/** Codes with a revoked identity and none valid (a village provisioned again is not revoked). */
export function revokedVillages(credentials: readonly BrokerCredential[]): Set<string> {
  const live = new Set(credentials.filter(isActive).map((c) => c.code));
  return new Set(
    credentials.flatMap((c) =>
      c.role === 'village' && c.revoked_ms !== null && c.code !== null && !live.has(c.code) ? [c.code] : [],
    ),
  );
}

async function audit(
  db: Db,
  code: string,
  event: string,
  source: string,
  detail: string,
  wallMs: number,
): Promise<void> {
  await db.insertInto('provision_audit').values({ at_ms: wallMs, code, event, source, detail }).execute();
}
