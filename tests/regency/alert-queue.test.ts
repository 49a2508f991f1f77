import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { AlertRepo } from '../../src/regency/alerts/alert-repo.js';
import { AlertSender } from '../../src/regency/alerts/alert-sender.js';
import { AlertWatch, alertId, hooksOf } from '../../src/regency/alerts/alert-watch.js';
import { duration, render } from '../../src/regency/alerts/templates.js';
import { validateRegencyConfigText } from '../../src/regency/config.js';
import type { RegencyConfig } from '../../src/regency/config-schema.js';
import type { FleetVillage } from '../../src/regency/fleet.js';
import { type OpenedDb, openRegencyDb } from '../../src/regency/store/open-db.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { tempDir } from '../helpers/tmp.js';
import { DIALECTS, regencyConfig, TestStore } from './helpers.js';

const log = pino({ level: 'silent' });

function tile(code: string, state: FleetVillage['state'], over: Partial<FleetVillage> = {}): FleetVillage {
  return {
    code,
    name: `Sukamaju ${code.slice(-1)}`,
    kecamatan: 'Glagah',
    isp: null,
    known: true,
    state,
    fault_layer: state === 'down' ? 'isp' : null,
    since: null,
    outage: null,
    devices: {},
    outbox_depth: null,
    clock_synced: true,
    version: '0.1.0',
    last_seen: null,
    revoked: null,
    ...over,
  };
}

describe('alert templates and config', () => {
  const tmp = tempDir('kgw-alert-config-');
  afterAll(() => tmp.cleanup());
  const validate = (alerts: unknown) =>
    validateRegencyConfigText(
      stringify({ regency: { name: 'X' }, mqtt: { url: 'mqtt://b' }, alerts }),
      join(tmp.path, 'r.yaml'),
    );

  it('refuses unknown placeholders and tokens in the URL; fills values as text only', () => {
    const bad = validate({
      webhooks: [{ url: 'https://user:t0ken@chat.example/hook' }],
      templates: { down: '{name} {constructor} {__proto__}' },
    });
    expect(bad.ok ? [] : bad.issues.map((i) => [i.path, i.message.includes('t0ken')])).toEqual([
      ['alerts.webhooks[0].url', false],
      ['alerts.templates.down', false],
      ['alerts.templates.down', false],
    ]);
    const facts = {
      code: '3510170012',
      name: 'Kemiren {code} {{regency}}',
      kecamatan: null,
      isp: null,
      state: 'silent',
      fault_layer: null,
      sinceMs: Date.parse('2026-12-06T03:00:00Z'),
      endedMs: Date.parse('2026-12-06T04:05:30Z'),
      regency: 'R',
    };
    expect(render('{name}|{kecamatan}|{state}|{since}|{ended}|{duration}|{nope}', facts, 'id')).toBe(
      'Kemiren {code} {{regency}}|—|senyap (tidak ada kabar)|2026-12-06 10:00|2026-12-06 11:05|1 j 5 m|{nope}',
    );
    expect(render('{state} {layer} {duration}', { ...facts, state: 'down', fault_layer: 'lan' }, 'en')).toBe(
      'down village LAN 1 h 5 min',
    );
    expect(duration(42_000, 'id')).toBe('42 d');
  });
});

describe.each(DIALECTS)('alert watch and sender on the fake clock (%s)', (dialect) => {
  const tmp = tempDir('kgw-alert-queue-');
  const store = new TestStore(dialect, tmp.path);
  let opened: OpenedDb;
  let server: Server;
  let status = 503;
  const bodies: Array<{
    alerts: Array<{ id: string; kind: string; village: { code: string }; text: string }>;
  }> = [];

  const setup = (alerts: Record<string, unknown>): RegencyConfig => {
    const r = validateRegencyConfigText(
      stringify(regencyConfig(store, 'mqtt://127.0.0.1:1', { alerts })),
      join(tmp.path, 'r.yaml'),
    );
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    return r.config;
  };

  beforeAll(async () => {
    await store.create();
    opened = await openRegencyDb(setup({}), log);
    server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => {
        raw += c.toString();
      });
      req.on('end', () => {
        if (status < 300) bodies.push(JSON.parse(raw));
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await opened?.db.destroy();
    await store.drop();
    tmp.cleanup();
  });

  it('waits min_down_s, keeps a flap in one episode, backs off, groups, keeps order, gives up late', async () => {
    const port = (server.address() as AddressInfo).port;
    const config = setup({
      language: 'en',
      webhooks: [
        { url: `http://127.0.0.1:${port}/fast`, min_down_s: 60 },
        { url: `http://127.0.0.1:${port}/slow`, min_down_s: 600, language: 'id' },
      ],
      recover_s: 120,
      retry: { initial_s: 10, max_s: 40, give_up_h: 1 },
    });
    const clock = new FakeClock();
    const repo = new AlertRepo({ db: opened.db });
    const hooks = hooksOf(config);
    let fleet: FleetVillage[] = [];
    const watch = new AlertWatch({
      config,
      repo,
      clock,
      log,
      hooks,
      fleet: async () => fleet,
      queued: () => undefined,
    });
    const sender = new AlertSender({ config, repo, clock, log, hooks, random: () => 0.5 });
    const [a, b, c] = ['3510170001', '3510170002', '3510170003'];

    fleet = [tile(a, 'down'), tile(b, 'silent'), tile(c, 'online')];
    expect(await watch.check()).toBe(0);
    clock.advance(59_000);
    expect(await watch.check()).toBe(0);
    clock.advance(1_000);
    expect(await watch.check()).toBe(2); // a and b on the 60 s hook
    expect(await watch.check()).toBe(0); // once per episode

    // Receiver failing: retried at 10, 20, 40, 40 s (× jitter 1.0), never before.
    status = 503;
    await sender.kick();
    let rows = await repo.pending(10);
    expect(rows.map((r) => [r.attempts, r.next_ms - clock.wallMs(), r.last_error])).toEqual([
      [1, 10_000, 'HTTP 503'],
      [1, 10_000, 'HTTP 503'],
    ]);
    clock.advance(9_000);
    await sender.kick();
    expect((await repo.pending(10)).map((r) => r.attempts)).toEqual([1, 1]);
    clock.advance(1_000);
    await sender.kick();
    rows = await repo.pending(10);
    expect(rows.map((r) => [r.attempts, r.next_ms - clock.wallMs()])).toEqual([
      [2, 20_000],
      [2, 20_000],
    ]);

    // a flaps: well for less than recover_s, then down again: still one episode.
    fleet = [tile(a, 'online'), tile(b, 'silent'), tile(c, 'online')];
    clock.advance(20_000);
    await watch.check();
    fleet = [tile(a, 'down'), tile(b, 'silent'), tile(c, 'online')];
    clock.advance(60_000);
    await watch.check();
    // Receiver back: both down alerts in one POST, each with its own id.
    status = 204;
    await sender.kick();
    expect(bodies).toHaveLength(1);
    expect(bodies[0]?.alerts.map((x) => [x.village.code, x.kind]).sort()).toEqual([
      [a, 'down'],
      [b, 'down'],
    ]);
    expect(bodies[0]?.alerts.find((x) => x.village.code === a)?.text).toMatch(
      /^DOWN: Sukamaju 1 village, Glagah \(3510170001\) down since .* WIB\. Layer: internet provider \(ISP\)\.$/,
    );

    // b recovers at once; a stays down: the 600 s hook gets a's down alert (in Indonesian), not b's.
    fleet = [tile(a, 'down'), tile(b, 'online'), tile(c, 'online')];
    clock.advance(500_000);
    expect(await watch.check()).toBe(1); // a on the 600 s hook
    clock.advance(120_000);
    expect(await watch.check()).toBe(1); // b's up, on the 60 s hook only (the one that had its down)
    await sender.kick();
    const second = bodies.slice(1).flatMap((x) => x.alerts);
    expect(second.map((x) => [x.village.code, x.kind]).sort()).toEqual([
      [a, 'down'],
      [b, 'up'],
    ]);
    expect(second.find((x) => x.village.code === a)?.text).toMatch(
      /^GANGGUAN: Desa Sukamaju 1, Kec\. Glagah \(3510170001\) terputus sejak/,
    );
    expect((await repo.episodes()).has(b)).toBe(false);

    // Order per village and hook: a's up waits behind a down that is still pending; then give-up.
    const early = alertId(hooks[0]?.key ?? '', c, 1, 'down');
    await repo.enqueue({
      id: early,
      hook: hooks[0]?.key ?? '',
      gw: c,
      kind: 'down',
      episode_ms: 1,
      body: '{"text":"x"}',
      created_ms: clock.wallMs(),
      next_ms: clock.wallMs() + 3_600_000,
    });
    await repo.enqueue({
      id: `${early}-2`,
      hook: hooks[0]?.key ?? '',
      gw: c,
      kind: 'up',
      episode_ms: 1,
      body: '{"text":"y"}',
      created_ms: clock.wallMs() + 1,
      next_ms: clock.wallMs(),
    });
    const before = bodies.length;
    await sender.kick();
    expect(bodies).toHaveLength(before);
    status = 500;
    clock.advance(3_600_001);
    await sender.kick();
    expect((await repo.counts()).failed).toBe(1);
    await sender.kick();
    expect((await repo.counts()).failed).toBe(2);
    expect(await repo.counts()).toMatchObject({ pending: 0, sent: 4 });
  });

  it('reminds every remind_every_h while the village stays bad: the latest one only after a gap, none by default', async () => {
    const port = (server.address() as AddressInfo).port;
    const config = setup({
      language: 'en',
      webhooks: [
        { url: `http://127.0.0.1:${port}/remind`, min_down_s: 60, remind_every_h: 1 },
        { url: `http://127.0.0.1:${port}/plain`, min_down_s: 60 },
      ],
      recover_s: 120,
    });
    const clock = new FakeClock();
    const repo = new AlertRepo({ db: opened.db });
    const hooks = hooksOf(config);
    const gw = '3510170021';
    let fleet = [tile(gw, 'down')];
    const watchOf = () =>
      new AlertWatch({ config, repo, clock, log, hooks, fleet: async () => fleet, queued: () => undefined });
    let watch = watchOf();
    expect(await watch.check()).toBe(0);
    clock.advance(60_000);
    expect(await watch.check()).toBe(2); // down on both hooks
    clock.advance(3_600_000 - 1_000);
    expect(await watch.check()).toBe(0);
    clock.advance(1_000);
    expect(await watch.check()).toBe(1); // the first reminder, on the hook that asked for them
    expect(await watch.check()).toBe(0);
    // A collector restart mid-episode sends nothing twice (the ids are the same).
    watch = watchOf();
    expect(await watch.check()).toBe(0);
    // Stopped for two and a half hours: one reminder (the third), not a burst of two.
    clock.advance(2.5 * 3_600_000);
    expect(await watch.check()).toBe(1);
    fleet = [tile(gw, 'online')];
    await watch.check();
    clock.advance(120_000);
    expect(await watch.check()).toBe(2); // up on both hooks; the episode ends
    clock.advance(3_600_000);
    expect(await watch.check()).toBe(0); // no reminder after the end

    status = 204;
    const from = bodies.length;
    const sender = new AlertSender({ config, repo, clock, log, hooks, random: () => 0.5 });
    // One alert per village and hook a POST (their order is kept): kick until all went.
    for (let i = 0; i < 6 && (await repo.counts()).pending > 0; i++) await sender.kick();
    const sent = bodies
      .slice(from)
      .flatMap((x) => x.alerts)
      .filter((x) => x.village.code === gw);
    expect(sent.map((x) => x.kind).sort()).toEqual(['down', 'down', 'reminder', 'reminder', 'up', 'up']);
    const reminders = sent.filter((x) => x.kind === 'reminder') as Array<
      (typeof sent)[number] & { reminder: number; duration_s: number }
    >;
    expect(reminders.map((x) => [x.reminder, x.duration_s])).toEqual([
      [1, 3_660],
      [3, 3_660 + 9_000],
    ]);
    expect(reminders[0]?.text).toMatch(
      /^STILL DOWN: Sukamaju 1 village, Glagah \(3510170021\) still down since .* WIB, for 1 h 1 min now\. Layer: internet provider \(ISP\)\.$/,
    );
  });

  it('opens no silent episode while the collector itself hears nothing', async () => {
    const config = setup({ webhooks: [{ url: 'http://127.0.0.1:9/hook', min_down_s: 0 }] });
    const clock = new FakeClock();
    const repo = new AlertRepo({ db: opened.db });
    let receiving = false;
    const fleet = [tile('3510170011', 'silent'), tile('3510170012', 'down')];
    const watch = new AlertWatch({
      config,
      repo,
      clock,
      log,
      hooks: hooksOf(config),
      fleet: async () => fleet,
      receiving: () => receiving,
      queued: () => undefined,
    });
    await watch.check();
    const open = async () => [...(await repo.episodes()).keys()].filter((k) => k >= '3510170011').sort();
    expect(await open()).toEqual(['3510170012']);
    receiving = true;
    await watch.check();
    expect(await open()).toEqual(['3510170011', '3510170012']);
  });

  it('a forged or revoked sender raises one security alert per village, reason and WIB day', async () => {
    const config = setup({ webhooks: [{ url: 'http://127.0.0.1:9/hook', min_down_s: 0 }] });
    const clock = new FakeClock({ wall: Date.parse('2026-11-28T03:00:00Z') });
    const repo = new AlertRepo({ db: opened.db });
    const quarantine = (gw: string, reason: string, agoMs: number) =>
      opened.db
        .insertInto('quarantine')
        .values({
          at_ms: clock.wall - agoMs,
          topic: `kampung/v1/${gw}/event`,
          reason,
          detail: 'envelope gw 3510170099',
          size: 2,
          payload: '{}',
        })
        .execute();
    await quarantine('3510170031', 'gw_mismatch', 2 * 86_400_000); // two days ago: not paged again
    await quarantine('3510170031', 'gw_mismatch', 60_000);
    await quarantine('3510170031', 'gw_mismatch', 30_000);
    await quarantine('3510170032', 'schema', 30_000); // a broken box, not an attack
    await quarantine('3510170033', 'revoked', 10_000);
    const watch = new AlertWatch({
      config,
      repo,
      clock,
      log,
      hooks: hooksOf(config),
      fleet: async () => [
        tile('3510170031', 'online'),
        tile('3510170033', 'online', { revoked: '2026-11-27T00:00:00.000Z' }),
      ],
      queued: () => undefined,
    });
    expect(await watch.check()).toBe(2);
    const security = async () =>
      (await repo.pending(100))
        .filter((a) => a.kind === 'security')
        .map(
          (a) =>
            JSON.parse(a.body) as { village: { code: string }; state: string; text: string; since: string },
        )
        .sort((a, b) => a.village.code.localeCompare(b.village.code));
    const first = await security();
    expect(first.map((a) => [a.village.code, a.state])).toEqual([
      ['3510170031', 'gw_mismatch'],
      ['3510170033', 'revoked'],
    ]);
    expect(first[0]?.text).toContain('mengaku sebagai desa lain');
    expect(first[0]?.since).toBe(new Date(clock.wall - 60_000).toISOString());
    // More of the same that day: nothing new. The next WIB day: a new alert.
    await quarantine('3510170031', 'gw_mismatch', 0);
    expect(await watch.check()).toBe(0);
    clock.advance(86_400_000);
    await quarantine('3510170031', 'gw_mismatch', 0);
    expect(await watch.check()).toBe(1);
  });

  it('pages for no village the regency revoked on purpose (its silence is its quarantine)', async () => {
    const config = setup({ webhooks: [{ url: 'http://127.0.0.1:9/hook', min_down_s: 0 }] });
    const repo = new AlertRepo({ db: opened.db });
    const fleet = [
      tile('3510170021', 'silent', { revoked: '2026-11-30T02:00:00.000Z' }),
      tile('3510170022', 'silent'),
    ];
    const watch = new AlertWatch({
      config,
      repo,
      clock: new FakeClock(),
      log,
      hooks: hooksOf(config),
      fleet: async () => fleet,
      queued: () => undefined,
    });
    await watch.check();
    const open = [...(await repo.episodes()).keys()].filter((k) => k >= '3510170021').sort();
    expect(open).toEqual(['3510170022']);
  });
});
