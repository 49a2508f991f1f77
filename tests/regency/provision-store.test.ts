import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  renderEmqxRevoked,
  renderMosquittoAcl,
  renderMosquittoPasswd,
} from '../../src/regency/provision/broker-files.js';
import { hashBrokerPassword, verifyBrokerPassword } from '../../src/regency/provision/broker-hash.js';
import {
  type BrokerCredential,
  CredentialsRepo,
  isActive,
} from '../../src/regency/provision/credentials-repo.js';
import type { OpenedDb } from '../../src/regency/store/open-db.js';
import { waitFor } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';
import { DIALECTS, openTestDb, TestStore } from './helpers.js';

const T0 = 1_800_000_000_000;

describe.each(DIALECTS)('broker credentials in the regency store on %s', (dialect) => {
  const tmp = tempDir('kgw-cred-store-');
  const store = new TestStore(dialect, tmp.path);
  let opened: OpenedDb;
  let repo: CredentialsRepo;

  beforeAll(async () => {
    await store.create();
    opened = await openTestDb(store, tmp.path);
    repo = new CredentialsRepo({ db: opened.db });
  });
  afterAll(async () => {
    await opened?.db.destroy();
    await store.drop();
    tmp.cleanup();
  });

  const id = (username: string, secret: string) => ({ username, hash: hashBrokerPassword(secret) });
  const A = '3510010001';
  const B = '3510010002';
  const names = (c: BrokerCredential[]) => c.map((x) => x.username);

  it('creates, rotates with a grace, confirms and revokes; a new box after a revocation; files follow the store', async () => {
    expect((await repo.issue(A, id('gw-3510010001', 'first-secret-xx'), T0, null, 'cli')).action).toBe(
      'created',
    );
    await repo.issue(B, id('gw-3510010002', 'other-secret-xx'), T0, null, 'cli');
    expect(await repo.nextUsername(A)).toBe('gw-3510010001.2');

    // Rotation with a grace: both identities valid, the new one awaiting the box.
    const r = await repo.issue(A, id('gw-3510010001.2', 'second-secret-x'), T0 + 1, T0 + 100, 'cli');
    expect(r).toEqual({ action: 'rotated', graceUntilMs: T0 + 100, retired: [] });
    let all = await repo.all();
    expect(names(all.filter(isActive))).toEqual(['gw-3510010001', 'gw-3510010001.2', 'gw-3510010002']);
    expect(renderMosquittoPasswd(all)).toContain('gw-3510010001:');
    expect(renderMosquittoPasswd(all)).toContain('gw-3510010001.2:');
    expect(await repo.graceOver(T0 + 99)).toEqual([]);
    expect(await repo.graceOver(T0 + 100)).toEqual([A]);

    // Rotated again before the box confirmed: the unconfirmed one stays valid (its box may run
    // it already) beside the old, until the newest is confirmed or its grace ends.
    const again = await repo.issue(A, id('gw-3510010001.3', 'third-secret-xx'), T0 + 2, T0 + 200, 'cli');
    expect(again).toEqual({ action: 'rotated', graceUntilMs: T0 + 200, retired: [] });
    all = await repo.all();
    expect(names(all.filter(isActive))).toEqual([
      'gw-3510010001',
      'gw-3510010001.2',
      'gw-3510010001.3',
      'gw-3510010002',
    ]);
    expect(renderEmqxRevoked(all)).toBe('');
    expect(await repo.graceOver(T0 + 100)).toEqual([]);
    expect(await repo.graceOver(T0 + 200)).toEqual([A]);

    expect(await repo.finishRotation(B, T0 + 3, 'confirmed', 'cli')).toBeUndefined();
    expect(await repo.finishRotation(A, T0 + 3, 'confirmed', 'cli')).toEqual({
      username: 'gw-3510010001.3',
      retired: ['gw-3510010001', 'gw-3510010001.2'],
    });
    all = await repo.all();
    expect(names(all.filter(isActive))).toEqual(['gw-3510010001.3', 'gw-3510010002']);
    expect(renderEmqxRevoked(all)).toBe('gw-3510010001\ngw-3510010001.2\n');
    const a = await repo.get('gw-3510010001.3');
    expect(a).toMatchObject({ grace_until_ms: null, rotated_ms: T0 + 3, revoked_ms: null, retired_ms: null });
    expect(verifyBrokerPassword('third-secret-xx', a as NonNullable<typeof a>)).toBe(true);
    expect(await repo.graceOver(T0 + 1000)).toEqual([]);

    // Revoked during a grace: both identities go.
    await repo.issue(B, id('gw-3510010002.2', 'b-second-secret'), T0 + 4, T0 + 100, 'cli');
    expect(await repo.revoke(B, T0 + 5)).toBe(true);
    expect(await repo.revoke(B, T0 + 6)).toBe(true);
    expect(await repo.revoke('3510019999', T0)).toBe(false);
    expect((await repo.get('gw-3510010002'))?.revoked_ms).toBe(T0 + 5);
    expect((await repo.get('gw-3510010002.2'))?.revoked_ms).toBe(T0 + 5);
    expect([...(await repo.revokedCodes())]).toEqual([B]);
    all = await repo.all();
    expect(renderMosquittoPasswd(all)).not.toContain('gw-3510010002');
    expect(renderMosquittoAcl({ prefix: 'kampung/v1', credentials: all })).not.toContain('gw-3510010002');

    // A new box after a revocation: a new name at once, no grace for the stolen one.
    const fresh = await repo.issue(B, id('gw-3510010002.3', 'new-box-secret'), T0 + 7, T0 + 100, 'cli');
    expect(fresh.graceUntilMs).toBeNull();
    expect([...(await repo.revokedCodes())]).toEqual([]);
    expect(names((await repo.all()).filter(isActive))).toEqual(['gw-3510010001.3', 'gw-3510010002.3']);

    const events = await opened.db
      .selectFrom('provision_audit')
      .select(['code', 'event'])
      .orderBy('id')
      .execute();
    expect(events.map((e) => `${e.code} ${e.event}`)).toEqual([
      `${A} created`,
      `${B} created`,
      `${A} rotating`,
      `${A} rotating`,
      `${A} confirmed`,
      `${B} rotating`,
      `${B} revoked`,
      `${B} rotated`,
    ]);
  });

  it('the box confirms only the identity it names; concurrent confirmations finish the rotation once', async () => {
    const C = '3510010003';
    await repo.issue(C, id(`gw-${C}`, 'c-first-secret'), T0, null, 'cli');
    await repo.issue(C, id(`gw-${C}.2`, 'c-second-secret'), T0 + 1, T0 + 100, 'cli');
    for (const named of [`gw-${C}`, `gw-${C}.3`, 'gw-3510010001.3'])
      expect(await repo.finishRotation(C, T0 + 2, 'confirmed', 'box', named)).toBeUndefined();
    expect(names((await repo.ofVillage(C)).filter(isActive))).toEqual([`gw-${C}`, `gw-${C}.2`]);
    // Collector instances hearing the same birth: one of them confirms, the others find nothing.
    // On PostgreSQL the audit table is held until all three have read the rotation as pending
    // (one waits to write its audit row, two for the row it changed): truly at the same time.
    const hold = dialect === 'postgres' ? new pg.Client({ connectionString: store.url }) : undefined;
    await hold?.connect();
    await hold?.query('BEGIN; LOCK TABLE provision_audit IN EXCLUSIVE MODE');
    const racing = Promise.all(
      [0, 1, 2].map(() => repo.finishRotation(C, T0 + 3, 'confirmed', 'box', `gw-${C}.2`)),
    );
    if (hold) {
      await waitFor(async () => {
        // Inside a transaction the activity view is a snapshot: cleared to see the others move.
        await hold.query('SELECT pg_stat_clear_snapshot()');
        const r = await hold.query(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        );
        return r.rows[0].n >= 3;
      }, 10_000);
      await hold.query('ROLLBACK');
      await hold.end();
    }
    const results = await racing;
    expect(results.filter((x) => x !== undefined)).toEqual([{ username: `gw-${C}.2`, retired: [`gw-${C}`] }]);
    const rows = await opened.db
      .selectFrom('provision_audit')
      .select(['event', 'source', 'detail'])
      .where('code', '=', C)
      .orderBy('id')
      .execute();
    expect(rows.map((e) => `${e.event} ${e.source}`)).toEqual([
      'created cli',
      'rotating cli',
      'confirmed box',
    ]);
    expect(rows[2]?.detail).toBe(`gw-${C}.2 in use; gw-${C} retired (the box's birth named gw-${C}.2)`);
  });
});
