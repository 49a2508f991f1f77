import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import { join, relative } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readSigningKey, sumAndSign } from '../../scripts/release-sign.mjs';
import { REPO_ROOT } from '../helpers/daemon.js';
import { TestBroker } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';
import { EVENTS, RealBox } from './real-box.js';

// Upgrades between two real release bundles of `npm run release`, on staged roots with the real
// daemon: A is this tree, B the same tree stamped as the next version with one more migration
// (tests/ops/stamp-release.mjs), both built by scripts/test-release.sh, which sets
// KGW_RELEASE_DIR, KGW_RELEASE_B (B's version) and KGW_RELEASE_KEY. C, a test build of B whose
// daemon exits right after migrating the database, is B unpacked, patched and signed again.
// Not part of `npm test` (vitest.config.ts leaves tests/ops/release*.test.ts out).

const BUNDLES = process.env.KGW_RELEASE_DIR ?? '';
const B = process.env.KGW_RELEASE_B ?? '';
const KEY = process.env.KGW_RELEASE_KEY ?? '';
const A = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const C = `${B}.exits`;
const HEALTH_TIMEOUT_S = 20;
const bundle = (v: string) => join(BUNDLES, `kampung-gateway-${v}-linux-x64.tar.gz`);
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

const tmp = tempDir('kgw-release-upgrade-');
const broker = new TestBroker();
const unpacked: Record<string, string> = {};
let boxes = 0;
const running: RealBox[] = [];

/** Unpacks a bundle once (the boxes hard-link their release from it); returns its top folder. */
function unpack(file: string, as: string): string {
  const dir = join(tmp.path, `unpacked-${as}`);
  mkdirSync(dir);
  execFileSync('tar', ['-xzf', file, '-C', dir]);
  const [top] = readdirSync(dir);
  return join(dir, top ?? '');
}

/** Packs a tree as a bundle file (gzip -1: a test copy, not reproducible). */
function pack(top: string, file: string): string {
  execFileSync('tar', ['-I', 'gzip -1', '-cf', file, '-C', join(top, '..'), relative(join(top, '..'), top)]);
  return file;
}

/** C: B with another version and a daemon that exits (code 3) as soon as its store is migrated. */
function buildC(): string {
  const dir = join(tmp.path, 'build-c');
  mkdirSync(dir);
  execFileSync('tar', ['-xzf', bundle(B), '-C', dir]);
  const from = join(dir, `kampung-gateway-${B}-linux-x64`);
  const top = join(dir, `kampung-gateway-${C}-linux-x64`);
  execFileSync('mv', [from, top]);
  const store = join(top, 'dist', 'store', 'store.js');
  const code = readFileSync(store, 'utf8');
  const call = /migrate\(this\.handle, [^;]*\);/;
  if (!call.test(code)) throw new Error(`${store}: no migrate() call to patch`);
  writeFileSync(
    store,
    code.replace(call, (m) => `${m} process.exit(3);`),
  );
  for (const f of ['package.json', 'RELEASE']) {
    const p = join(top, f);
    writeFileSync(p, readFileSync(p, 'utf8').replace(new RegExp(`\\b${B.replaceAll('.', '\\.')}\\b`), C));
  }
  execFileSync('rm', [join(top, 'SHA256SUMS'), join(top, 'SHA256SUMS.sig')]);
  sumAndSign(top, readSigningKey(KEY));
  return pack(top, join(BUNDLES, `kampung-gateway-${C}-linux-x64.tar.gz`));
}

async function newBox(): Promise<RealBox> {
  boxes += 1;
  const box = new RealBox(join(tmp.path, `box-${boxes}`), {
    gatewayId: `35101700${String(10 + boxes).padStart(2, '0')}`,
    brokerUrl: broker.url,
    healthTimeoutS: HEALTH_TIMEOUT_S,
  });
  running.push(box);
  await box.install(unpacked.a ?? '', A);
  return box;
}

/** Every path under dir with its type and content hash or link target. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      const rel = relative(dir, p);
      if (st.isSymbolicLink()) out[rel] = `-> ${readlinkSync(p)}`;
      else if (st.isDirectory()) {
        out[rel] = 'dir';
        walk(p);
      } else out[rel] = `${st.size} ${st.ino}`;
    }
  };
  walk(dir);
  return out;
}

describe.runIf(BUNDLES && B)('upgrades between real release bundles on staged roots', () => {
  let bundleC = '';
  beforeAll(async () => {
    await broker.start();
    const t0 = Date.now();
    unpacked.a = unpack(bundle(A), 'a');
    bundleC = buildC();
    console.log(`A unpacked and C built in ${Date.now() - t0} ms`);
  }, 300_000);
  // Each box's tree (thousands of hard links) goes as soon as its test is done: removing them
  // all at the end took longer than a hook may on a loaded machine.
  afterEach(async () => {
    for (const box of running.splice(0)) {
      await box.stop();
      rmSync(box.root, { recursive: true, force: true });
    }
  }, 120_000);
  afterAll(async () => {
    await broker.dispose();
    tmp.cleanup();
  }, 300_000);

  it('a good bundle upgrades: B serves, connected again, the schema migrated and every event kept', async () => {
    const box = await newBox();
    const before = box.db();
    expect(before.events).toHaveLength(EVENTS);
    const t0 = Date.now();
    const r = await box.cli([bundle(B), '--sha256', sha256(bundle(B)), '--json']);
    console.log(`A -> B upgrade: ${Date.now() - t0} ms`);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      outcome: 'upgraded',
      from: `releases/${A}`,
      to: `releases/${B}`,
    });
    // upgrade.health_timeout_s from the config; the old version was connected, so MQTT counts.
    expect(r.stderr).toContain(`waiting up to ${HEALTH_TIMEOUT_S} s for /healthz and the MQTT connection`);
    expect(await box.health()).toMatchObject({ ok: true, version: B, mqtt: true });
    const after = box.db();
    expect(after.schema).toBe(before.schema + 1);
    expect(after.tables).toEqual([...before.tables, 'upgrade_test'].sort());
    expect(after.events).toEqual(before.events);
    expect(after.integrity).toBe('ok');
    expect([box.link('current'), box.link('previous')]).toEqual([`releases/${B}`, `releases/${A}`]);
    expect(box.releases()).toEqual([A, B].sort());
    expect(box.journalPending()).toBe(false);
  }, 180_000);

  it('a bundle whose daemon exits at start is rolled back: A serves again on the snapshot', async () => {
    const box = await newBox();
    await box.stop(); // a stopped box's database is exactly what the snapshot takes
    const before = box.db();
    await box.restarter.start();
    expect((await box.serving())?.version).toBe(A);
    const t0 = Date.now();
    const r = await box.cli([bundleC, '--json']);
    console.log(`A -> C (exits) rolled back in ${Date.now() - t0} ms`);
    expect(r.code, r.stderr).toBe(1);
    const result = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(result).toMatchObject({ outcome: 'rolled-back', restored: true, oldHealthy: true });
    expect(String(result.reason)).toMatch(/never answered|503/);
    expect(await box.health()).toMatchObject({ ok: true, version: A, mqtt: true });
    // C migrated the database before it exited: the snapshot went back, so A could open it.
    expect(box.db()).toEqual(before);
    expect(box.link('current')).toBe(`releases/${A}`);
    expect(box.releases()).toEqual([A]);
  }, 180_000);

  it('a wrong sha256 or another signing key is refused before anything changes', async () => {
    const box = await newBox();
    const pid = box.pid();
    const before = { opt: tree(box.appDir), db: box.db() };
    // The upgrader's own folder (its lock, while it runs) may be created; nothing is left in it.
    const opt = () => {
      const t = tree(box.appDir);
      if (t.upgrade === 'dir') expect(readdirSync(join(box.appDir, 'upgrade'))).toEqual([]);
      delete t.upgrade;
      return t;
    };
    const other = join(tmp.path, 'other-key');
    mkdirSync(other);
    execFileSync('tar', ['-xzf', bundle(B), '-C', other]);
    const top = join(other, `kampung-gateway-${B}-linux-x64`);
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    writeFileSync(join(top, 'keys', 'release.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    execFileSync('rm', [join(top, 'SHA256SUMS'), join(top, 'SHA256SUMS.sig')]);
    sumAndSign(top, privateKey);
    const forged = pack(top, join(other, `kampung-gateway-${B}-linux-x64.tar.gz`));
    for (const [args, msg] of [
      [[bundle(B), '--sha256', '0'.repeat(64)], /sha256/],
      [[forged], /signature does not match the pinned key/],
    ] as const) {
      const r = await box.cli([...args]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(msg);
      expect(box.pid()).toBe(pid);
      expect(await box.health()).toMatchObject({ ok: true, version: A });
      expect(opt()).toEqual(before.opt);
      expect(box.db().events).toEqual(before.db.events);
      expect(box.db().schema).toBe(before.db.schema);
    }
  }, 180_000);

  it('B answers healthy but never reaches the broker the old version was connected to: rolled back', async () => {
    const box = await newBox();
    let stopped: Promise<void> | undefined;
    // The upgrader asks /healthz (mqtt: true) before it checks the bundle; once the bundle is
    // verified the broker goes away, so B starts and serves but cannot connect.
    const r = await box.cli([bundle(B), '--json'], {}, (err) => {
      if (!stopped && err.includes('verified')) stopped = broker.stop();
    });
    await stopped;
    try {
      expect(r.code, r.stderr).toBe(1);
      const result = JSON.parse(r.stdout) as Record<string, unknown>;
      expect(result).toMatchObject({ outcome: 'rolled-back', restored: true });
      expect(String(result.reason)).toMatch(/MQTT not connected/);
      expect(await box.health()).toMatchObject({ ok: true, version: A, mqtt: false });
    } finally {
      await broker.start();
    }
  }, 180_000);

  it("the regency's upgrade command: downloaded from its server, progress and outcome on the reply topic", async () => {
    const box = await newBox();
    const name = `kampung-gateway-${B}-linux-x64.tar.gz`;
    const server = createServer((req, res) => {
      if (req.url !== `/releases/${name}`) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-length': statSync(bundle(B)).size });
      createReadStream(bundle(B)).pipe(res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/releases/${name}`;
    const noc = mqtt.connect(broker.url, { protocolVersion: 5, clientId: `noc-${box.gatewayId}` });
    const got: Array<{ body: Record<string, unknown>; correlation: string | undefined }> = [];
    noc.on('message', (_t, payload, packet) =>
      got.push({
        body: JSON.parse(payload.toString()),
        correlation: packet.properties?.correlationData?.toString(),
      }),
    );
    const state = (s: string) =>
      got.find((m) => (m.body.result as { state?: string } | undefined)?.state === s);
    try {
      await noc.subscribeAsync('noc/rollout', { qos: 1 });
      await noc.publishAsync(
        `kampung/v1/${box.gatewayId}/cmd/upgrade`,
        JSON.stringify({ id: 'rollout-1', args: { url, sha256: sha256(bundle(B)) } }),
        { qos: 1, properties: { responseTopic: 'noc/rollout', correlationData: Buffer.from('c-1') } },
      );
      await waitFor(() => state('requested'), 120_000, 50);
      expect(got[0]?.body).toMatchObject({ id: 'rollout-1', ok: true, result: { accepted: true } });
      const tenths = got.filter((m) => (m.body.result as { state?: string }).state === 'downloading');
      expect(tenths.length).toBeGreaterThanOrEqual(5);
      // What kampung-gateway-upgrade.path starts: the root upgrader takes the request.
      const r = await box.cli(['--resume', '--json']);
      expect(r.code, r.stderr).toBe(0);
      // B, started by the upgrade, answers the outcome at its first connection.
      const done = await waitFor(() => state('done'), 60_000, 50);
      expect(done.body).toMatchObject({
        id: 'rollout-1',
        ok: true,
        result: { outcome: 'upgraded', version: B },
      });
      expect(got.every((m) => m.body.id === 'rollout-1' && m.correlation === 'c-1')).toBe(true);
      expect(await box.health()).toMatchObject({ ok: true, version: B, mqtt: true });
    } finally {
      await noc.endAsync(true);
      await new Promise((r) => server.close(r));
    }
  }, 300_000);

  // kill -9 of the upgrader at each journal step, then the next boot: the service starts on
  // whatever `current` names (after a power cut: SIGKILL of the service too) and the upgrade
  // unit runs `--resume`. The box ends on one of the two versions with every event.
  const FORWARD = [
    'after:verified',
    'after:snapshotted',
    'after:unpacked',
    'before:flipped',
    'after:flipped',
    'after:restarted',
    'after:committed',
  ];
  const BACK = ['before:rolling-back', 'after:rolling-back', 'after:rolled-back'];
  it.for([...FORWARD.map((p) => ({ p, to: B })), ...BACK.map((p) => ({ p, to: C }))])(
    'killed -9 at $p on the way to $to: the box boots one of the two versions with its data',
    { timeout: 240_000 },
    async ({ p, to }) => {
      const box = await newBox();
      const events = box.db().events;
      const crashed = await box.cli([to === B ? bundle(B) : bundleC], { KGW_UPGRADE_CRASH_AT: p });
      expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
      expect(box.db().events).toEqual(events);
      // The power cut, then the boot: the service on `current`, and the upgrade unit's --resume.
      await box.killService();
      await box.restarter.start();
      const r = await box.cli(['--resume', '--json']);
      expect([0, 1]).toContain(r.code);
      const end = to === B ? B : A;
      const h = await box.serving();
      expect(h, `${r.stderr}\n${box.log()}`).toMatchObject({ ok: true, version: end });
      expect(box.link('current')).toBe(`releases/${end}`);
      const db = box.db();
      expect(db.events).toEqual(events);
      expect(db.integrity).toBe('ok');
      expect(db.tables.includes('upgrade_test')).toBe(end === B);
      expect(box.journalPending()).toBe(false);
      expect(existsSync(join(box.appDir, 'upgrade', 'snapshot'))).toBe(false);
    },
  );
});
