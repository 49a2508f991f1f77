import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { validateRegencyConfigText } from '../../src/regency/config.js';
import { renderMosquittoAcl, renderMosquittoPasswd } from '../../src/regency/provision/broker-files.js';
import { hashBrokerPassword, verifyBrokerPassword } from '../../src/regency/provision/broker-hash.js';
import { CredentialsRepo } from '../../src/regency/provision/credentials-repo.js';
import { type OpenedDb, openRegencyDb } from '../../src/regency/store/open-db.js';
import { tempDir } from '../helpers/tmp.js';
import { DIALECTS, regencyConfig, TestStore } from './helpers.js';

const T0 = 1_800_000_000_000;

describe.each(DIALECTS)('broker credentials in the regency store on %s', (dialect) => {
  const tmp = tempDir('kgw-cred-store-');
  const store = new TestStore(dialect, tmp.path);
  let opened: OpenedDb;
  let repo: CredentialsRepo;

  beforeAll(async () => {
    await store.create();
    const r = validateRegencyConfigText(
      stringify(regencyConfig(store, 'mqtt://127.0.0.1:1')),
      `${tmp.path}/r.yaml`,
    );
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    opened = await openRegencyDb(r.config, pino({ level: 'silent' }));
    repo = new CredentialsRepo({ db: opened.db });
  });
  afterAll(async () => {
    await opened?.db.destroy();
    await store.drop();
    tmp.cleanup();
  });

  it('creates, rotates and revokes; a rotation lifts a revocation; files follow the store', async () => {
    expect(
      await repo.put('gw-3510010001', 'village', '3510010001', hashBrokerPassword('first-secret-xx'), T0),
    ).toBe('created');
    await repo.put('gw-3510010002', 'village', '3510010002', hashBrokerPassword('other-secret-xx'), T0);
    expect(
      await repo.put('gw-3510010001', 'village', '3510010001', hashBrokerPassword('second-secret-x'), T0 + 1),
    ).toBe('rotated');
    const a = await repo.get('gw-3510010001');
    expect(a).toMatchObject({ created_ms: T0, rotated_ms: T0 + 1, revoked_ms: null, iterations: 101 });
    expect(verifyBrokerPassword('second-secret-x', a as NonNullable<typeof a>)).toBe(true);
    expect(verifyBrokerPassword('first-secret-xx', a as NonNullable<typeof a>)).toBe(false);

    expect(await repo.revoke('gw-3510010002', T0 + 2)).toBe(true);
    expect(await repo.revoke('gw-3510010002', T0 + 3)).toBe(true);
    expect(await repo.revoke('gw-nobody', T0)).toBe(false);
    expect((await repo.get('gw-3510010002'))?.revoked_ms).toBe(T0 + 2);
    expect([...(await repo.revokedCodes())]).toEqual(['3510010002']);
    const all = await repo.all();
    expect(renderMosquittoPasswd(all)).not.toContain('gw-3510010002');
    expect(renderMosquittoAcl({ prefix: 'kampung/v1', credentials: all })).not.toContain('gw-3510010002');

    await repo.put('gw-3510010002', 'village', '3510010002', hashBrokerPassword('new-box-secret'), T0 + 4);
    expect((await repo.get('gw-3510010002'))?.revoked_ms).toBeNull();
  });
});
