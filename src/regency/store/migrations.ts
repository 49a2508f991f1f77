import type { Kysely, Migration, MigrationProvider } from 'kysely';
import { partitionMessages } from './migration-012.js';
import type { Dialect } from './schema.js';

/**
 * Numbered migrations, one list for both dialects. Where SQL differs (auto ids), the
 * migration asks which dialect it runs on. Never edit a released migration: add the next one.
 */
function migrations(dialect: Dialect): Record<string, Migration> {
  const autoId = dialect === 'postgres' ? 'bigserial' : 'integer';
  return {
    '001-collector': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('messages')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('gw', 'text', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('boot', 'text', (c) => c.notNull())
          .addColumn('seq', 'bigint', (c) => c.notNull())
          .addColumn('ts', 'text', (c) => c.notNull())
          .addColumn('clock_synced', 'integer', (c) => c.notNull())
          .addColumn('historical', 'integer', (c) => c.notNull())
          .addColumn('day', 'text', (c) => c.notNull())
          .addColumn('received_ms', 'bigint', (c) => c.notNull())
          .addColumn('data', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('messages_gw_day').on('messages').columns(['gw', 'day']).execute();
        await db.schema.createIndex('messages_gw_seq').on('messages').columns(['gw', 'seq']).execute();

        await db.schema
          .createTable('quarantine')
          .addColumn('id', autoId, (c) => c.primaryKey())
          .addColumn('at_ms', 'bigint', (c) => c.notNull())
          .addColumn('topic', 'text', (c) => c.notNull())
          .addColumn('reason', 'text', (c) => c.notNull())
          .addColumn('detail', 'text', (c) => c.notNull())
          .addColumn('size', 'integer', (c) => c.notNull())
          .addColumn('payload', 'text', (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('villages')
          .addColumn('gw', 'text', (c) => c.primaryKey())
          .addColumn('online', 'integer')
          .addColumn('status', 'text')
          .addColumn('verdict', 'text')
          .addColumn('fault_layer', 'text')
          .addColumn('since', 'text')
          .addColumn('link', 'text')
          .addColumn('health', 'text')
          .addColumn('version', 'text')
          .addColumn('boot', 'text')
          .addColumn('clock_synced', 'integer')
          .addColumn('outbox_depth', 'integer')
          .addColumn('last_seen_ms', 'bigint')
          .addColumn('state_ms', 'bigint')
          .addColumn('min_seq', 'bigint')
          .addColumn('max_seq', 'bigint')
          .execute();

        await db.schema
          .createTable('village_devices')
          .addColumn('gw', 'text', (c) => c.notNull())
          .addColumn('device_id', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('data', 'text', (c) => c.notNull())
          .addColumn('at_ms', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('village_devices_pk', ['gw', 'device_id'])
          .execute();

        await db.schema
          .createTable('seq_ranges')
          .addColumn('gw', 'text', (c) => c.notNull())
          .addColumn('boot', 'text', (c) => c.notNull())
          .addColumn('lo', 'bigint', (c) => c.notNull())
          .addColumn('hi', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('seq_ranges_pk', ['gw', 'boot', 'lo'])
          .execute();

        await db.schema
          .createTable('seq_gaps')
          .addColumn('id', autoId, (c) => c.primaryKey())
          .addColumn('gw', 'text', (c) => c.notNull())
          .addColumn('lo', 'bigint', (c) => c.notNull())
          .addColumn('hi', 'bigint', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('opened_ms', 'bigint', (c) => c.notNull())
          .addColumn('opened_day', 'text', (c) => c.notNull())
          .addColumn('closed_ms', 'bigint')
          .execute();
        await db.schema.createIndex('seq_gaps_gw_state').on('seq_gaps').columns(['gw', 'state']).execute();

        await db.schema
          .createTable('seq_reuse')
          .addColumn('id', autoId, (c) => c.primaryKey())
          .addColumn('gw', 'text', (c) => c.notNull())
          .addColumn('seq', 'bigint', (c) => c.notNull())
          .addColumn('boot', 'text', (c) => c.notNull())
          .addColumn('msg_id', 'text', (c) => c.notNull())
          .addColumn('day', 'text', (c) => c.notNull())
          .addColumn('at_ms', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('seq_reuse_gw_day').on('seq_reuse').columns(['gw', 'day']).execute();

        await db.schema
          .createTable('ledger_days')
          .addColumn('gw', 'text', (c) => c.notNull())
          .addColumn('day', 'text', (c) => c.notNull())
          .addColumn('messages', 'bigint', (c) => c.notNull().defaultTo(0))
          .addColumn('duplicates', 'bigint', (c) => c.notNull().defaultTo(0))
          .addColumn('reused', 'bigint', (c) => c.notNull().defaultTo(0))
          .addColumn('folded', 'bigint', (c) => c.notNull().defaultTo(0))
          .addColumn('min_seq', 'bigint')
          .addColumn('max_seq', 'bigint')
          .addPrimaryKeyConstraint('ledger_days_pk', ['gw', 'day'])
          .execute();

        await db.schema
          .createTable('counters')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('value', 'bigint', (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('accounts')
          .addColumn('id', autoId, (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull().unique())
          .addColumn('password_hash', 'text', (c) => c.notNull())
          .addColumn('created_ms', 'bigint', (c) => c.notNull())
          .addColumn('updated_ms', 'bigint', (c) => c.notNull())
          .execute();
      },
    },
    '002-command-audit': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('command_audit')
          .addColumn('id', autoId, (c) => c.primaryKey())
          .addColumn('request_id', 'text', (c) => c.notNull().unique())
          .addColumn('at_ms', 'bigint', (c) => c.notNull())
          .addColumn('actor', 'text', (c) => c.notNull())
          .addColumn('gw', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('args', 'text', (c) => c.notNull())
          .addColumn('outcome', 'text', (c) => c.notNull())
          .addColumn('reply', 'text')
          .addColumn('answered_ms', 'bigint')
          .execute();
        await db.schema
          .createIndex('command_audit_gw_at')
          .on('command_audit')
          .columns(['gw', 'at_ms'])
          .execute();
      },
    },
    '003-sessions': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('sessions')
          .addColumn('token_hash', 'text', (c) => c.primaryKey())
          .addColumn('account_id', 'bigint', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
          .addColumn('created_ms', 'bigint', (c) => c.notNull())
          .addColumn('last_ms', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('login_failures')
          .addColumn('id', autoId, (c) => c.primaryKey())
          .addColumn('key', 'text', (c) => c.notNull())
          .addColumn('at_ms', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('login_failures_key')
          .on('login_failures')
          .columns(['key', 'at_ms'])
          .execute();
        await db.schema
          .createTable('settings')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('value', 'text', (c) => c.notNull())
          .execute();
      },
    },
    '004-broker-credentials': {
      async up(db: Kysely<unknown>) {
        // Broker identities: only the PBKDF2 hash is kept, enough to write the broker's
        // password file again; the secret itself leaves only in the village's bundle.
        await db.schema
          .createTable('broker_credentials')
          .addColumn('username', 'text', (c) => c.primaryKey())
          .addColumn('role', 'text', (c) => c.notNull())
          .addColumn('code', 'text')
          .addColumn('salt', 'text', (c) => c.notNull())
          .addColumn('iterations', 'integer', (c) => c.notNull())
          .addColumn('hash', 'text', (c) => c.notNull())
          .addColumn('created_ms', 'bigint', (c) => c.notNull())
          .addColumn('rotated_ms', 'bigint', (c) => c.notNull())
          .addColumn('revoked_ms', 'bigint')
          .execute();
      },
    },
    '005-gap-repair': {
      async up(db: Kysely<unknown>) {
        // The repair loop's bookkeeping per gap: how often it was asked for with `resend`,
        // and not before when again (the claim is written before the request leaves, so two
        // collectors on one store do not ask for the same gap at once). States now:
        // open | repaired | unrepairable (the gateway answered the seqs missing).
        await db.schema
          .alterTable('seq_gaps')
          .addColumn('asks', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema.alterTable('seq_gaps').addColumn('next_ask_ms', 'bigint').execute();
      },
    },
    '006-alerts-silence': {
      async up(db: Kysely<unknown>) {
        // The village's own health interval (from its birth or health): silent after 3 × it.
        await db.schema.alterTable('villages').addColumn('health_interval_s', 'integer').execute();
        // One open episode per village that is down, silent or offline (or recovering).
        await db.schema
          .createTable('alert_episodes')
          .addColumn('gw', 'text', (c) => c.primaryKey())
          .addColumn('started_ms', 'bigint', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('fault_layer', 'text')
          .addColumn('good_since_ms', 'bigint')
          .execute();
        // The durable webhook queue: an alert is acknowledged once it is a row here. Its id is
        // derived from (hook, village, episode, kind): enqueueing it again is a no-op.
        await db.schema
          .createTable('alert_queue')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('hook', 'text', (c) => c.notNull())
          .addColumn('gw', 'text', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('episode_ms', 'bigint', (c) => c.notNull())
          .addColumn('body', 'text', (c) => c.notNull())
          .addColumn('created_ms', 'bigint', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('next_ms', 'bigint', (c) => c.notNull())
          .addColumn('last_error', 'text')
          .addColumn('sent_ms', 'bigint')
          .execute();
        await db.schema
          .createIndex('alert_queue_state_next')
          .on('alert_queue')
          .columns(['state', 'next_ms'])
          .execute();
      },
    },
    '007-state-order': {
      async up(db: Kysely<unknown>) {
        // Order-safe village state (docs/regency.md "Order of messages"): each boot of a
        // village ranked in the order the regency first heard of it, and the (rank, seq)
        // position of what the village row shows, so a late or replayed message never
        // overwrites a newer state. Self-contained: only new columns and one new table.
        await db.schema
          .createTable('village_boots')
          .addColumn('gw', 'text', (c) => c.notNull())
          .addColumn('boot', 'text', (c) => c.notNull())
          .addColumn('rank', 'integer', (c) => c.notNull())
          .addColumn('first_ms', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('village_boots_pk', ['gw', 'boot'])
          .execute();
        for (const col of [
          'health_rank',
          'health_seq',
          'top_rank',
          'top_seq',
          'link_rank',
          'link_seq',
          'boot_rank',
        ])
          await db.schema.alterTable('villages').addColumn(col, 'bigint').execute();
      },
    },
    '008-account-roles': {
      async up(db: Kysely<unknown>) {
        // viewer | operator | admin (src/regency/auth/roles.ts). Accounts made before roles
        // could do everything, so they keep it: admin. New accounts are given a role by the CLI.
        await db.schema
          .alterTable('accounts')
          .addColumn('role', 'text', (c) => c.notNull().defaultTo('admin'))
          .execute();
      },
    },
    '009-bundle-codes': {
      async up(db: Kysely<unknown>) {
        // One-time codes a box fetches its bundle with: only their SHA-256 is kept. Every
        // issue, fetch and refusal is written to provision_audit.
        await db.schema
          .createTable('bundle_codes')
          .addColumn('hash', 'text', (c) => c.primaryKey())
          .addColumn('code', 'text', (c) => c.notNull())
          .addColumn('bundle_dir', 'text', (c) => c.notNull())
          .addColumn('created_ms', 'bigint', (c) => c.notNull())
          .addColumn('expires_ms', 'bigint', (c) => c.notNull())
          .addColumn('used_ms', 'bigint')
          .execute();
        await db.schema
          .createTable('provision_audit')
          .addColumn('id', autoId, (c) => c.primaryKey())
          .addColumn('at_ms', 'bigint', (c) => c.notNull())
          .addColumn('code', 'text', (c) => c.notNull())
          .addColumn('event', 'text', (c) => c.notNull())
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('detail', 'text', (c) => c.notNull())
          .execute();
      },
    },
    '010-client-certs': {
      async up(db: Kysely<unknown>) {
        // A village's client certificate, when it has one: its serial and end of validity
        // (enough to list it in the CRL once revoked); the certificate itself is in the bundle.
        await db.schema.alterTable('broker_credentials').addColumn('cert_serial', 'text').execute();
        await db.schema.alterTable('broker_credentials').addColumn('cert_not_after_ms', 'bigint').execute();
        // Certificates a rotation replaced: in the CRL from then on, like a revoked village's.
        await db.schema
          .createTable('superseded_certs')
          .addColumn('serial', 'text', (c) => c.primaryKey())
          .addColumn('username', 'text', (c) => c.notNull())
          .addColumn('not_after_ms', 'bigint', (c) => c.notNull())
          .addColumn('superseded_ms', 'bigint', (c) => c.notNull())
          .execute();
      },
    },
    '011-rotation-grace': {
      async up(db: Kysely<unknown>) {
        // A rotation gives the village a second identity (a new username: Mosquitto's password
        // file holds one hash per name) that the broker accepts beside the old one until the
        // box confirms it or grace_until_ms passes. Then the old one is retired: out of the
        // broker files, its certificate in the CRL, its username on EMQX's list to forget.
        // Each column only when missing: on SQLite the DDL runs outside a transaction, so a
        // kill between the two ALTERs leaves the first column and this migration unrecorded.
        const table = (await db.introspection.getTables()).find((t) => t.name === 'broker_credentials');
        const has = new Set(table?.columns.map((c) => c.name));
        for (const column of ['grace_until_ms', 'retired_ms'])
          if (!has.has(column))
            await db.schema.alterTable('broker_credentials').addColumn(column, 'bigint').execute();
      },
    },
    '012-messages-partitions': {
      async up(db: Kysely<unknown>) {
        // PostgreSQL only (SQLite keeps one table): see partitionMessages.
        if (dialect === 'postgres') await partitionMessages(db);
      },
    },
  };
}

export class RegencyMigrations implements MigrationProvider {
  private readonly dialect: Dialect;

  constructor(dialect: Dialect) {
    this.dialect = dialect;
  }

  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations(this.dialect);
  }
}
