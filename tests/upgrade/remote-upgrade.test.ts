import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { sha256File } from '../../src/upgrade/bundle-verify.js';
import { type UpgradeCommandDeps, upgradeCommand } from '../../src/upgrade/upgrade-command.js';
import { TestDaemon } from '../helpers/daemon.js';
import { TestBroker } from '../helpers/mosquitto.js';
import { sleep, waitFor } from '../helpers/net.js';
import { memoryLogger } from '../helpers/test-log.js';
import { tempDir } from '../helpers/tmp.js';
import { PRECIOUS, StagedBox } from './box.js';
import { buildBundle, testKey } from './fake-bundle.js';

const ROOT = 'kampung/v1/3510170012';
const key = testKey();
const bundleDir = tempDir('kgw-rb-');
let v1: string;
let v2: string;
let bad: string;
let v2sum: string;

beforeAll(async () => {
  for (const n of ['v1', 'v2', 'bad']) mkdirSync(join(bundleDir.path, n));
  v1 = buildBundle(
    join(bundleDir.path, 'v1'),
    { version: '1.0.0', schema: 1, healthy: true },
    key.privateKey,
  );
  v2 = buildBundle(
    join(bundleDir.path, 'v2'),
    { version: '2.0.0', schema: 2, healthy: true },
    key.privateKey,
  );
  bad = buildBundle(
    join(bundleDir.path, 'bad'),
    { version: '2.0.0-bad', schema: 2, healthy: false },
    key.privateKey,
  );
  v2sum = await sha256File(v2);
});
afterAll(() => bundleDir.cleanup());

const upgradeOperation = (o: Omit<UpgradeCommandDeps, 'log'>) =>
  upgradeCommand({ log: memoryLogger().log, ...o }).operation;

const v2name = () => v2.split('/').at(-1) ?? '';

function stage(dataDir: string, bundle: string): string {
  mkdirSync(join(dataDir, 'upgrades'), { recursive: true });
  const name = bundle.split('/').at(-1) ?? '';
  copyFileSync(bundle, join(dataDir, 'upgrades', name));
  return name;
}

describe('the upgrade command over MQTT (real daemon, real broker)', () => {
  const broker = new TestBroker();
  let daemon: TestDaemon;
  let noc: MqttClient;
  const replies = new Map<
    string,
    { ok: boolean; result?: Record<string, unknown>; error?: { code: string; message: string } }
  >();

  beforeAll(async () => {
    await broker.start();
    daemon = await TestDaemon.start({ config: { mqtt: { url: broker.url, connect_delay_max_s: 0 } } });
    await daemon.waitForLog((l) => l.msg === 'mqtt: connected');
    noc = mqtt.connect(broker.url, { protocolVersion: 4, clientId: 'noc' });
    noc.on('message', (_t, p) => {
      const body = JSON.parse(p.toString());
      replies.set(body.id, body);
    });
    await waitFor(() => noc.connected);
    await noc.subscribeAsync(`${ROOT}/cmd/+/reply`, { qos: 1 });
    await sleep(300);
  });
  afterAll(async () => {
    await noc?.endAsync(true);
    await daemon?.dispose();
    await broker.dispose();
  });

  async function call(id: string, args?: unknown) {
    await noc.publishAsync(`${ROOT}/cmd/upgrade`, JSON.stringify({ id, args }), { qos: 1 });
    return waitFor(() => replies.get(id), 10_000, 10);
  }

  it('is offered, refuses names, paths, links and wrong digests, then writes one request', async () => {
    const upgrades = join(daemon.dataDir, 'upgrades');
    expect(await call('u0')).toMatchObject({ ok: true, result: { pending: false, last_result: null } });
    const name = stage(daemon.dataDir, v2);
    const refusals: Array<[unknown, RegExp]> = [
      [{ bundle: '../../../etc/shadow', sha256: v2sum }, /args\/bundle/],
      [{ bundle: `/tmp/${name}`, sha256: v2sum }, /args\/bundle/],
      [{ bundle: name, sha256: 'A'.repeat(64) }, /args\/sha256/],
      [{ bundle: name, sha256: v2sum, command: 'rm -rf /' }, /args/],
      [{ bundle: name }, /one of args.bundle or args.url/],
      [{ bundle: name, sha256: '0'.repeat(64) }, new RegExp(`sha256 is ${v2sum}`)],
      [{ bundle: 'kampung-gateway-9.9.9-linux-x64.tar.gz', sha256: v2sum }, /no staged bundle/],
    ];
    // A link with a bundle's name is not a staged bundle.
    symlinkSync(v2, join(upgrades, 'kampung-gateway-9.9.8-linux-x64.tar.gz'));
    refusals.push([{ bundle: 'kampung-gateway-9.9.8-linux-x64.tar.gz', sha256: v2sum }, /no staged bundle/]);
    for (const [i, [args, message]] of refusals.entries()) {
      const r = await call(`bad-${i}`, args);
      expect(r.ok, JSON.stringify(args)).toBe(false);
      expect(r.error?.code).toBe('bad_args');
      expect(r.error?.message).toMatch(message);
    }
    expect(existsSync(join(upgrades, 'request.json'))).toBe(false);

    const ok = await call('u1', { bundle: name, sha256: v2sum });
    expect(ok).toMatchObject({ ok: true, result: { accepted: true, bundle: name } });
    const req = JSON.parse(readFileSync(join(upgrades, 'request.json'), 'utf8'));
    expect(req).toMatchObject({ bundle: name, sha256: v2sum });
    expect((await call('u2', { bundle: name, sha256: v2sum })).error?.code).toBe('not_available');
    expect(await call('u3')).toMatchObject({ ok: true, result: { pending: true } });
  });
});

describe('the upgrade command while the outbox drains a backlog', () => {
  it('refuses unless forced', async () => {
    const d = tempDir('kgw-drain-');
    try {
      const name = stage(d.path, v2);
      const left = 1200;
      const op = upgradeOperation({ dataDir: d.path, now: () => 1, backlogLeft: () => left });
      const ctx = { signal: new AbortController().signal, progress: () => undefined, actor: 'regency' };
      await expect(op.run({ ...ctx, args: { bundle: name, sha256: v2sum } })).rejects.toMatchObject({
        code: 'not_available',
        message: expect.stringMatching(/draining a backlog \(1200 left\)/),
      });
      expect(existsSync(join(d.path, 'upgrades', 'request.json'))).toBe(false);
      await expect(
        op.run({ ...ctx, args: { bundle: name, sha256: v2sum, force: true } }),
      ).resolves.toMatchObject({
        accepted: true,
      });
      expect(existsSync(join(d.path, 'upgrades', 'request.json'))).toBe(true);
    } finally {
      d.cleanup();
    }
  });
});

describe.concurrent('upgrade --resume takes the request (what the upgrade unit runs)', () => {
  async function boxWithRequest(ctx: TestContext, bundle: string): Promise<{ box: StagedBox; id: string }> {
    const d = tempDir('kgw-rbox-');
    const box = new StagedBox(d.path, key.publicKeyPem);
    ctx.onTestFinished(async () => {
      await box.stop();
      d.cleanup();
    });
    await box.install(v1, '1.0.0');
    const name = stage(box.dataDir, bundle);
    const op = upgradeOperation({ dataDir: box.dataDir, now: () => 1_700_000_000_000 });
    const sum = await sha256File(join(box.dataDir, 'upgrades', name));
    const r = (await op.run({
      args: { bundle: name, sha256: sum },
      signal: new AbortController().signal,
      progress: () => undefined,
      actor: 'regency',
    })) as { request: string };
    return { box, id: r.request };
  }

  it('upgrades, removes the request and leaves the result for the next answer', async (ctx) => {
    const { expect } = ctx;
    const { box, id } = await boxWithRequest(ctx, v2);
    const r = await box.cli(['--resume', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(await box.state()).toMatchObject({
      current: 'releases/2.0.0',
      serving: '2.0.0',
      precious: PRECIOUS,
    });
    expect(existsSync(join(box.dataDir, 'upgrades', 'request.json'))).toBe(false);
    const op = upgradeOperation({ dataDir: box.dataDir, now: () => 0 });
    const status = (await op.run({
      args: {},
      signal: new AbortController().signal,
      progress: () => undefined,
      actor: 'regency',
    })) as { pending: boolean; last_result: Record<string, unknown> };
    expect(status).toMatchObject({
      pending: false,
      last_result: { id, ok: true, outcome: 'upgraded', version: '2.0.0' },
    });
  });

  it('rolls back a bad release and says so in the result', async (ctx) => {
    const { expect } = ctx;
    const { box, id } = await boxWithRequest(ctx, bad);
    const r = await box.cli(['--resume', '--health-timeout', '2']);
    expect(r.code).toBe(1);
    expect(await box.state()).toMatchObject({
      current: 'releases/1.0.0',
      serving: '1.0.0',
      schema: 1,
      precious: PRECIOUS,
    });
    const result = JSON.parse(readFileSync(join(box.dataDir, 'upgrades', 'result.json'), 'utf8'));
    expect(result).toMatchObject({ id, ok: false, outcome: 'rolled-back', restored: true });
  });

  it('refuses a bundle swapped after the request: the digest is checked again as root', async (ctx) => {
    const { expect } = ctx;
    const { box } = await boxWithRequest(ctx, v2);
    copyFileSync(bad, join(box.dataDir, 'upgrades', v2name()));
    const r = await box.cli(['--resume']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/GW_ERR_BUNDLE_REFUSED/);
    expect(await box.state()).toMatchObject({ current: 'releases/1.0.0', serving: '1.0.0', schema: 1 });
    const result = JSON.parse(readFileSync(join(box.dataDir, 'upgrades', 'result.json'), 'utf8'));
    expect(result).toMatchObject({ ok: false, outcome: 'refused' });
    expect(result.reason).toMatch(/sha256/);
  });
});
