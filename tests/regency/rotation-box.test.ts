import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { bundleDir, bundleIdentity } from '../../src/regency/provision/village-bundle.js';
import { TestDaemon } from '../helpers/daemon.js';
import { TestBroker } from '../helpers/mosquitto.js';
import { freePort, waitFor } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';
import {
  DIALECTS,
  queryStore,
  RegencyDaemon,
  regencyCli,
  regencyConfig,
  TestStore,
  villageCodes,
} from './helpers.js';

const P = 'kampung/v1';
const GRACE_S = 86_400;
const [A, B, C] = (await villageCodes(3)) as [string, string, string];

type Id = { username: string; secret: string };

/** True when the identity is accepted by the broker (the session is closed again). */
function works(url: string, id: Id): Promise<boolean> {
  return new Promise((resolve) => {
    const c = mqtt.connect(url, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      username: id.username,
      password: id.secret,
      clientId: `probe-${Math.random()}`,
    });
    c.once('connect', () => {
      c.end(true);
      resolve(true);
    });
    const fail = () => {
      c.end(true);
      resolve(false);
    };
    c.once('error', fail);
    c.once('close', fail);
  });
}

/** A birth as the gateway publishes it (retained, QoS 1), saying it connected as `mqttUser`. */
async function birth(url: string, id: Id, gw: string, mqttUser: string): Promise<void> {
  const c = await mqtt.connectAsync(url, {
    protocolVersion: 5,
    reconnectPeriod: 0,
    username: id.username,
    password: id.secret,
  });
  const now = new Date().toISOString();
  const payload = {
    online: true,
    gw,
    name: `Desa ${gw}`,
    version: '0.1.0',
    boot: `boot-${Math.random().toString(36).slice(2)}`,
    started_at: now,
    ts: now,
    clock_synced: true,
    commands: ['ping'],
    health_interval_s: 60,
    mqtt_user: mqttUser,
  };
  await c.publishAsync(`${P}/${gw}/status`, JSON.stringify(payload), { qos: 1, retain: true });
  await c.endAsync();
}

/*
 * The box confirms its own rotation: the regency (`regency run`, a real child process) reads
 * the username in a live birth and, when it is the village's identity awaiting confirmation,
 * retires the old one and reloads the broker (SIGHUP) with no operator command. Real
 * Mosquitto on the generated password file and ACL; the box of A is the real daemon.
 */
describe.each(DIALECTS)('the box confirms its rotation by its birth (%s store)', (dialect) => {
  const tmp = tempDir('kgw-rotation-box-');
  const store = new TestStore(dialect, tmp.path);
  const out = join(tmp.path, 'out');
  const regencyDir = join(tmp.path, 'regency');
  const broker = new TestBroker({
    allowAnonymous: false,
    passwordFile: join(out, 'mosquitto', 'passwd'),
    aclFile: join(out, 'mosquitto', 'acl'),
  });
  let regency: RegencyDaemon;
  let box: TestDaemon | undefined;
  const old: Record<string, Id> = {};
  const fresh: Record<string, Id> = {};

  const config = (reload: boolean) => {
    const base = regencyConfig(store, broker.url);
    return {
      ...base,
      mqtt: {
        ...base.mqtt,
        username: 'regency-collector',
        // Not yet at the first provision, which writes it (the collector's new secret).
        ...(reload ? { password_file: join(out, 'collector', 'mqtt.secret') } : {}),
        topic_prefix: P,
      },
      provision: {
        out_dir: out,
        rotation_grace_s: GRACE_S,
        ...(reload ? { broker_reload: ['kill', '-HUP', String(broker.pid)] } : {}),
      },
    };
  };
  const provision = async (...codes: string[]) => {
    const r = await regencyCli(['provision', ...codes, '--config', join(regencyDir, 'regency.yaml')]);
    expect(r.code, r.err).toBe(0);
  };
  const identity = (code: string): Id => {
    const id = bundleIdentity(bundleDir(out, code));
    if (!id) throw new Error(`no bundle for ${code}`);
    return id;
  };
  const audit = async (code: string) =>
    (
      await queryStore<{ event: string; source: string; detail: string }>(
        store,
        `SELECT event, source, detail FROM provision_audit WHERE code = '${code}' ORDER BY id`,
      )
    ).map((r) => `${r.event} ${r.source}`);

  beforeAll(async () => {
    await store.create();
    broker.port = await freePort();
    mkdirSync(regencyDir, { recursive: true });
    writeFileSync(join(regencyDir, 'regency.yaml'), stringify(config(false)));
    await provision(A, B, C);
    for (const code of [A, B, C]) old[code] = identity(code);
    await broker.start();
    regency = new RegencyDaemon(regencyDir, config(true));
    await regency.start();
    await provision(A, C);
    for (const code of [A, C]) fresh[code] = identity(code);
    await waitFor(() => works(broker.url, fresh[A] as Id), 10_000);
  }, 90_000);

  afterAll(async () => {
    await box?.dispose();
    await regency?.stop();
    await broker.dispose();
    await store.drop();
    tmp.cleanup();
  });

  it("a birth naming the old identity, an unknown one or another village's confirms nothing", async () => {
    const oldA = old[A] as Id;
    const newA = fresh[A] as Id;
    expect(newA.username).toBe(`gw-${A}.2`);
    await birth(broker.url, oldA, A, oldA.username);
    await birth(broker.url, oldA, A, `gw-${A}.3`);
    await birth(broker.url, oldA, A, `gw-${B}`);
    await birth(broker.url, oldA, A, `gw-${C}.2`);
    // Village B's box naming A's new identity: B's topic, A's name.
    await birth(broker.url, old[B] as Id, B, newA.username);
    // Then C's box on its new identity: births are looked at in order, so once C is confirmed
    // every birth above has been looked at.
    await birth(broker.url, fresh[C] as Id, C, (fresh[C] as Id).username);
    await waitFor(async () => (await audit(C)).includes('confirmed box'), 15_000);
    await waitFor(async () => !(await works(broker.url, old[C] as Id)), 10_000);
    expect(await audit(A)).toEqual(['created cli', 'rotating cli']);
    expect(await audit(B)).toEqual(['created cli']);
    expect(await works(broker.url, oldA)).toBe(true);
    expect(await works(broker.url, newA)).toBe(true);
    expect(await works(broker.url, old[B] as Id)).toBe(true);
  });

  it('the real daemon on the new bundle connects: the old identity is refused after the reload, no operator command', async () => {
    const dir = bundleDir(out, A);
    box = new TestDaemon({
      dir: join(tmp.path, 'box'),
      config: {
        gateway: { id: A, name: 'Desa A (uji)' },
        mqtt: {
          url: broker.url,
          username: (fresh[A] as Id).username,
          password_file: join(dir, 'mqtt.secret'),
          topic_prefix: P,
          connect_delay_max_s: 0,
        },
      },
    });
    expect(readFileSync(join(dir, 'mqtt.secret'), 'utf8').trim()).toBe((fresh[A] as Id).secret);
    await box.start();
    await box.waitForLog((l) => l.msg === 'mqtt: connected', 15_000);
    await waitFor(async () => (await audit(A)).includes('confirmed box'), 15_000);
    await waitFor(async () => !(await works(broker.url, old[A] as Id)), 10_000);
    expect(await audit(A)).toEqual(['created cli', 'rotating cli', 'confirmed box']);
    const [row] = await queryStore<{ detail: string }>(
      store,
      `SELECT detail FROM provision_audit WHERE code = '${A}' AND event = 'confirmed'`,
    );
    expect(row?.detail).toBe(`gw-${A}.2 in use; gw-${A} retired (the box's birth named gw-${A}.2)`);
    expect(readFileSync(join(out, 'mosquitto', 'passwd'), 'utf8')).not.toMatch(new RegExp(`^gw-${A}:`, 'm'));
    expect(await works(broker.url, fresh[A] as Id)).toBe(true);
    expect(box.logs.some((l) => l.msg === 'mqtt: connection error')).toBe(false);
    // The regency logs the confirmation once the broker has reloaded, after the audit row.
    const confirmed = () =>
      regency.logs.filter((l) => l.msg?.startsWith('the box confirmed its new identity'));
    await waitFor(() => confirmed().length >= 2 || null, 15_000);
    const said = confirmed();
    expect(said.map((l) => [l.msg, l.village, l.username, l.retired])).toEqual([
      [expect.stringMatching(/broker reloaded$/), C, `gw-${C}.2`, [`gw-${C}`]],
      [expect.stringMatching(/broker reloaded$/), A, `gw-${A}.2`, [`gw-${A}`]],
    ]);
    // The birth names the username and never the secret.
    const [state] = await queryStore<{ status: string }>(
      store,
      `SELECT status FROM villages WHERE gw = '${A}'`,
    );
    expect(JSON.parse(state?.status ?? '{}')).toMatchObject({ online: true, mqtt_user: `gw-${A}.2` });
    expect(state?.status).not.toContain((fresh[A] as Id).secret);
  });
});
