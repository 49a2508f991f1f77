import type { Kysely } from 'kysely';
import type { RegencyTables } from './schema.js';

export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  name: string;
  args: unknown;
  outcome: string;
  reply: unknown;
  answered_at: string | null;
}

/**
 * The command audit: a row is written before the command leaves (outcome `pending`) and
 * completed with the answer or the timeout, so even a collector killed meanwhile leaves a
 * trace of what was sent.
 */
export class AuditRepo {
  private readonly db: Kysely<RegencyTables>;

  constructor(deps: { db: Kysely<RegencyTables> }) {
    this.db = deps.db;
  }

  async begin(row: { id: string; atMs: number; actor: string; gw: string; name: string; args: unknown }) {
    await this.db
      .insertInto('command_audit')
      .values({
        request_id: row.id,
        at_ms: row.atMs,
        actor: row.actor,
        gw: row.gw,
        name: row.name,
        args: JSON.stringify(row.args),
        outcome: 'pending',
        reply: null,
        answered_ms: null,
      })
      .execute();
  }

  async finish(id: string, outcome: 'ok' | 'error' | 'timeout' | 'unsent', reply: unknown, atMs: number) {
    await this.db
      .updateTable('command_audit')
      .set({ outcome, reply: reply === undefined ? null : JSON.stringify(reply), answered_ms: atMs })
      .where('request_id', '=', id)
      .execute();
  }

  async list(gw: string, limit: number): Promise<AuditEntry[]> {
    const rows = await this.db
      .selectFrom('command_audit')
      .selectAll()
      .where('gw', '=', gw)
      .orderBy('at_ms', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      id: r.request_id,
      at: new Date(r.at_ms).toISOString(),
      actor: r.actor,
      name: r.name,
      args: JSON.parse(r.args) as unknown,
      outcome: r.outcome,
      reply: r.reply === null ? null : (JSON.parse(r.reply) as unknown),
      answered_at: r.answered_ms === null ? null : new Date(r.answered_ms).toISOString(),
    }));
  }

  /** Whether the village ever reported (a code outside the registry may still be commanded). */
  async villageSeen(gw: string): Promise<boolean> {
    const row = await this.db.selectFrom('villages').select('gw').where('gw', '=', gw).executeTakeFirst();
    return row !== undefined;
  }
}
