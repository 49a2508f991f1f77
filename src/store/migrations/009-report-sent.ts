import type { Migration } from './types.js';

/**
 * Gap repair: an outbox row is no longer deleted at PUBACK but marked sent (`sent_wall`, the
 * wall time of the acknowledgement) and kept for `mqtt.resend_days`, so the regency's
 * `resend` command can republish it as it was sent. Marking in place costs the same page
 * writes as the delete it replaces; unsent rows are found through a partial index, so the
 * publisher never walks the kept ones. Lookups by seq use the existing UNIQUE index.
 */
export const m009ReportSent: Migration = {
  version: 9,
  name: 'report-sent',
  up(db) {
    db.exec(`
      ALTER TABLE outbox ADD COLUMN sent_wall INTEGER;
      CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_wall IS NULL;
    `);
  },
};
