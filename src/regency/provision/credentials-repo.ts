import type { Kysely } from 'kysely';
import type { RegencyTables } from '../store/schema.js';
import type { BrokerHash } from './broker-hash.js';

export type CredentialRole = 'village' | 'collector';

export interface BrokerCredential extends BrokerHash {
  username: string;
  role: CredentialRole;
  code: string | null;
  created_ms: number;
  rotated_ms: number;
  revoked_ms: number | null;
  cert_serial: string | null;
  cert_not_after_ms: number | null;
}

/** The username a village's gateway connects with. */
export function villageUsername(code: string): string {
  return `gw-${code}`;
}

/** Broker identities in the regency store (SQLite or PostgreSQL): hashes and their history. */
export class CredentialsRepo {
  private readonly db: Kysely<RegencyTables>;

  constructor(deps: { db: Kysely<RegencyTables> }) {
    this.db = deps.db;
  }

  async all(): Promise<BrokerCredential[]> {
    const rows = await this.db.selectFrom('broker_credentials').selectAll().orderBy('username').execute();
    return rows.map((r) => ({ ...r, role: r.role as CredentialRole }));
  }

  async get(username: string): Promise<BrokerCredential | undefined> {
    const r = await this.db
      .selectFrom('broker_credentials')
      .selectAll()
      .where('username', '=', username)
      .executeTakeFirst();
    return r ? { ...r, role: r.role as CredentialRole } : undefined;
  }

  /** Creates the identity, or rotates its hash (and lifts a revocation: a new box, a new secret). */
  async put(
    username: string,
    role: CredentialRole,
    code: string | null,
    h: BrokerHash,
    wallMs: number,
  ): Promise<'created' | 'rotated'> {
    const existing = await this.get(username);
    if (existing) {
      // The old certificate goes the way of the old secret.
      if (existing.cert_serial !== null)
        await this.db
          .insertInto('superseded_certs')
          .values({
            serial: existing.cert_serial,
            username,
            not_after_ms: Number(existing.cert_not_after_ms),
            superseded_ms: wallMs,
          })
          .onConflict((oc) => oc.column('serial').doNothing())
          .execute();
      await this.db
        .updateTable('broker_credentials')
        .set({
          salt: h.salt,
          iterations: h.iterations,
          hash: h.hash,
          rotated_ms: wallMs,
          revoked_ms: null,
          cert_serial: null,
          cert_not_after_ms: null,
        })
        .where('username', '=', username)
        .execute();
      return 'rotated';
    }
    await this.db
      .insertInto('broker_credentials')
      .values({
        username,
        role,
        code,
        salt: h.salt,
        iterations: h.iterations,
        hash: h.hash,
        created_ms: wallMs,
        rotated_ms: wallMs,
        revoked_ms: null,
        cert_serial: null,
        cert_not_after_ms: null,
      })
      .execute();
    return 'created';
  }

  /** Records the client certificate just issued for this identity (replacing any earlier one). */
  async setCert(username: string, serial: string, notAfterMs: number): Promise<void> {
    await this.db
      .updateTable('broker_credentials')
      .set({ cert_serial: serial, cert_not_after_ms: notAfterMs })
      .where('username', '=', username)
      .execute();
  }

  /**
   * Certificates to list in the CRL: those of revoked identities, and those a rotation
   * replaced (`superseded_certs`), so an old certificate stops working like an old secret,
   * and a stolen box's stays refused after its village is provisioned again.
   */
  async revokedCerts(): Promise<
    Array<{ serial: string; username: string; notAfterMs: number; revokedMs: number }>
  > {
    const rows = await this.db
      .selectFrom('broker_credentials')
      .select(['username', 'cert_serial', 'cert_not_after_ms', 'revoked_ms'])
      .where('revoked_ms', 'is not', null)
      .where('cert_serial', 'is not', null)
      .execute();
    const superseded = await this.db.selectFrom('superseded_certs').selectAll().execute();
    return [
      ...rows.map((r) => ({
        serial: r.cert_serial as string,
        username: r.username,
        notAfterMs: Number(r.cert_not_after_ms),
        revokedMs: Number(r.revoked_ms),
      })),
      ...superseded.map((r) => ({
        serial: r.serial,
        username: r.username,
        notAfterMs: Number(r.not_after_ms),
        revokedMs: Number(r.superseded_ms),
      })),
    ];
  }

  /** Marks it revoked; false when there is no such identity. Revoking twice keeps the first time. */
  async revoke(username: string, wallMs: number): Promise<boolean> {
    const existing = await this.get(username);
    if (!existing) return false;
    if (existing.revoked_ms === null)
      await this.db
        .updateTable('broker_credentials')
        .set({ revoked_ms: wallMs })
        .where('username', '=', username)
        .execute();
    return true;
  }

  /** Village codes whose identity is revoked (the collector refuses what still arrives from them). */
  async revokedCodes(): Promise<Set<string>> {
    const rows = await this.db
      .selectFrom('broker_credentials')
      .select('code')
      .where('role', '=', 'village')
      .where('revoked_ms', 'is not', null)
      .execute();
    return new Set(rows.flatMap((r) => (r.code === null ? [] : [r.code])));
  }
}
