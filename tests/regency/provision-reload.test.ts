import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { validateRegencyConfigText } from '../../src/regency/config.js';
import { CredentialsRepo } from '../../src/regency/provision/credentials-repo.js';
import { Provisioner, RELOAD_PENDING } from '../../src/regency/provision/provisioner.js';
import { bundleDir, bundleIdentity } from '../../src/regency/provision/village-bundle.js';
import { type OpenedDb, openRegencyDb } from '../../src/regency/store/open-db.js';
import { VillageRegistry } from '../../src/regency/villages.js';
import { FakeClock } from '../helpers/fake-clock.js';
import type { TestBroker } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';
import { DIALECTS, regencyConfig, TestStore } from './helpers.js';
import { PREFIX, provisionedBroker, tryConnect } from './provision-kit.js';

const GRACE_S = 3600;

describe.each(DIALECTS)('broker reload retried, rotations stacked (%s store, real Mosquitto)', (dialect) => {
  const tmp = tempDir('kgw-prov-reload-');
  const store = new TestStore(dialect, tmp.path);
  const out = join(tmp.path, 'out');
  const clock = new FakeClock();
  const registry = VillageRegistry.load(undefined);
  const [A, B] = registry.all().map((v) => v.code) as [string, string];
  const script = join(tmp.path, 'reload.sh');
  const failures = join(tmp.path, 'fail-next');
  let broker: TestBroker;
  let opened: OpenedDb;
  let credentials: CredentialsRepo;

  /** Reloads by SIGHUP, except once after `failNext()`: then it exits 1 as a failed reload. */
  const provisioner = (reload = true) => {
    const raw = {
      ...regencyConfig(store, broker.url),
      mqtt: { url: broker.url, username: 'regency-collector', topic_prefix: PREFIX },
      provision: {
        rotation_grace_s: GRACE_S,
        ...(reload ? { broker_reload: ['sh', script, String(broker.pid)] } : {}),
      },
    };
    const r = validateRegencyConfigText(stringify(raw), join(tmp.path, 'regency.yaml'));
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    return new Provisioner({ config: r.config, registry, credentials, wallMs: () => clock.wallMs() });
  };
  const failNext = () => writeFileSync(failures, '1');
  const identity = (code: string) => {
    const id = bundleIdentity(bundleDir(out, code));
    if (!id) throw new Error(`no bundle for ${code}`);
    return id;
  };
  const works = async (id: { username: string; secret: string }) => {
    const r = await tryConnect(broker.url, {
      username: id.username,
      password: id.secret,
      clientId: `t-${Math.random()}`,
    });
    r.client?.end(true);
    return r.client !== undefined;
  };

  beforeAll(async () => {
    await store.create();
    writeFileSync(script, `if [ -e '${failures}' ]; then rm '${failures}'; exit 1; fi\nkill -HUP "$1"\n`);
    broker = await provisionedBroker(out);
    const r = validateRegencyConfigText(
      stringify(regencyConfig(store, broker.url)),
      join(tmp.path, 'regency.yaml'),
    );
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    opened = await openRegencyDb(r.config, pino({ level: 'silent' }));
    credentials = new CredentialsRepo({ db: opened.db });
    // The broker is not running yet: the first files are written with nothing to reload.
    await provisioner(false).provision([A, B], out);
    await broker.start();
  }, 60_000);

  afterAll(async () => {
    await broker?.dispose();
    await opened?.db.destroy();
    await store.drop();
    tmp.cleanup();
  });

  it('a reload that failed is run again by the next run, though the files already match the store', async () => {
    const stolen = identity(A);
    expect(await works(stolen)).toBe(true);
    failNext();
    await expect(provisioner().revoke(A, out)).rejects.toMatchObject({ code: 'GW_ERR_BROKER_RELOAD' });
    expect(existsSync(join(out, RELOAD_PENDING))).toBe(true);
    // The broker never read the new files: the stolen box still gets in.
    expect(await works(stolen)).toBe(true);
    // `regency run` at start (or any later provision/confirm/revoke) owes the broker its reload.
    expect(await provisioner().reconcile(out)).toBe('reloaded');
    expect(existsSync(join(out, RELOAD_PENDING))).toBe(false);
    await waitFor(async () => !(await works(stolen)), 10_000);
    expect(await works(identity(B))).toBe(true);
    // Nothing owed any more: the next run leaves the broker alone.
    expect(await provisioner().reconcile(out)).toBe('unchanged');
  });

  it('a reload still owed when the command is taken out of the config is handed to the operator once', async () => {
    // As a failed reload leaves it; then the operator takes broker_reload out of the config.
    writeFileSync(join(out, RELOAD_PENDING), 'left by a failed reload\n');
    expect(await provisioner(false).reconcile(out)).toBe('manual');
    expect(existsSync(join(out, RELOAD_PENDING))).toBe(false);
    expect(await provisioner(false).reconcile(out)).toBe('unchanged');
  });

  it('rotating again before the box confirmed keeps the unconfirmed identity valid until the newest is confirmed', async () => {
    const first = identity(B);
    await provisioner().provision([B], out);
    const second = identity(B);
    await waitFor(() => works(second), 10_000);
    // The box may already run the second bundle when the operator rotates again.
    clock.advance(60_000);
    const r = await provisioner().provision([B], out);
    expect(r.villages[0]?.grace_until).toBe(new Date(clock.wallMs() + GRACE_S * 1000).toISOString());
    const third = identity(B);
    expect(third.username).toBe(`gw-${B}.3`);
    await waitFor(() => works(third), 10_000);
    expect(await works(second)).toBe(true);
    expect(await works(first)).toBe(true);
    const c = await provisioner().confirm(B, out);
    expect(c.username).toBe(`gw-${B}.3`);
    expect(c.retired.sort()).toEqual([`gw-${B}`, `gw-${B}.2`]);
    await waitFor(async () => !(await works(second)), 10_000);
    expect(await works(first)).toBe(false);
    expect(await works(third)).toBe(true);
  });
});
