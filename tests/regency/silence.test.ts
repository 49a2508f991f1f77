import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { classify } from '../../src/regency/classify.js';
import { validateRegencyConfigText } from '../../src/regency/config.js';
import { MonotonicSilence, readFleet, wallSilence } from '../../src/regency/fleet.js';
import { RegencyMetrics } from '../../src/regency/regency-metrics.js';
import { readRegencyStatus } from '../../src/regency/status.js';
import { IngestRepo } from '../../src/regency/store/ingest-repo.js';
import { type OpenedDb, openRegencyDb } from '../../src/regency/store/open-db.js';
import { ReadRepo } from '../../src/regency/store/read-repo.js';
import { VillageRegistry } from '../../src/regency/villages.js';
import { RetainedState } from '../../src/report/retained-state.js';
import { Topics } from '../../src/report/topics.js';
import type { StatusHub } from '../../src/status/status-hub.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { tempDir } from '../helpers/tmp.js';
import { DIALECTS, regencyConfig, TestStore, villageCodes } from './helpers.js';

const log = pino({ level: 'silent' });

describe('the gateway birth', () => {
  it('carries mqtt.health_interval_s, and the collector accepts it', () => {
    const sent: Array<{ topic: string; payload: string }> = [];
    const retained = new RetainedState({
      gateway: { id: '3510010001', name: 'Uji' },
      clock: new FakeClock(),
      log,
      status: {
        snapshot: () => ({ gateway: { started_at: null }, link: { verdict: 'up' }, devices: [] }),
      } as unknown as StatusHub,
      topics: new Topics('kampung/v1', '3510010001'),
      runId: 'boot-1',
      version: '0.1.0',
      healthIntervalS: 20,
      commandNames: () => [],
    });
    retained.publishAll({
      publish: (topic: string, payload: string) => sent.push({ topic, payload }),
    } as never);
    const birth = sent.find((m) => m.topic.endsWith('/status'));
    expect(JSON.parse(birth?.payload ?? '{}')).toMatchObject({ online: true, health_interval_s: 20 });
    const item = classify('kampung/v1', birth?.topic ?? '', Buffer.from(birth?.payload ?? ''), true);
    expect(item.t).toBe('state');
  });
});

describe.each(DIALECTS)('silence after 3 × the village health interval, on %s', (dialect) => {
  const tmp = tempDir('kgw-regency-silence-');
  const store = new TestStore(dialect, tmp.path);
  let opened: OpenedDb;
  let codes: string[];
  const registry = VillageRegistry.load(undefined);

  const status = (gw: string, extra: Record<string, unknown>) =>
    classify(
      'kampung/v1',
      `kampung/v1/${gw}/status`,
      Buffer.from(JSON.stringify({ online: true, gw, ...extra })),
      false,
    );

  beforeAll(async () => {
    await store.create();
    // silent_after_s is the fallback for a gateway that does not say its interval.
    const r = validateRegencyConfigText(
      stringify(regencyConfig(store, 'mqtt://127.0.0.1:1', { silent_after_s: 300 })),
      `${tmp.path}/r.yaml`,
    );
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    opened = await openRegencyDb(r.config, log);
    codes = await villageCodes(3);
  });
  afterAll(async () => {
    await opened?.db.destroy();
    await store.drop();
    tmp.cleanup();
  });

  it('uses each village its own interval on the wall, in status and /metrics; the config one as fallback', async () => {
    const [fast, slow, quiet] = codes as [string, string, string];
    const clock = new FakeClock();
    const ingest = new IngestRepo({
      db: opened.db,
      dialect: opened.dialect,
      sqlite: opened.sqlite,
      repairAfterMs: 300_000,
    });
    const read = new ReadRepo({ db: opened.db });
    const at = clock.wallMs();
    await ingest.commit([
      { item: status(fast, { health_interval_s: 10 }), atMs: at },
      { item: status(slow, { health_interval_s: 110 }), atMs: at },
      // A gateway of an older release: no interval, so silent_after_s (300 s) applies.
      { item: status(quiet, {}), atMs: at },
    ]);
    const rows = await read.villages();
    expect(Object.fromEntries(rows.map((r) => [r.gw, r.health_interval_s]))).toEqual({
      [fast]: 10,
      [slow]: 110,
      [quiet]: null,
    });

    const silence = new MonotonicSilence({ clock, silentAfterS: 300 });
    silence.begin(rows);
    const states = async () =>
      Object.fromEntries(
        (await readFleet(read, registry, silence))
          .filter((v) => codes.includes(v.code))
          .map((v) => [v.code, v.state]),
      );
    const metrics = new RegencyMetrics({ read: () => readRegencyStatus(read, registry, silence) });
    metrics.start();
    const silentGauge = async () => {
      const m = /kampung_regency_villages\{state="silent"\} (\d+)/.exec((await metrics.render()) ?? '');
      return Number(m?.[1]);
    };

    clock.advance(30_000);
    expect(await states()).toEqual({ [fast]: 'online', [slow]: 'online', [quiet]: 'online' });
    expect(await silentGauge()).toBe(0);
    clock.advance(1_000);
    expect(await states()).toEqual({ [fast]: 'silent', [slow]: 'online', [quiet]: 'online' });
    expect(await silentGauge()).toBe(1);
    // A live message restarts the village's silence clock.
    silence.heard(fast, clock.monoMs());
    clock.advance(29_000);
    expect((await states())[fast]).toBe('online');
    clock.advance(331_000 - 60_000);
    expect(await states()).toEqual({ [fast]: 'silent', [slow]: 'silent', [quiet]: 'silent' });
    expect((await readRegencyStatus(read, registry, silence)).villages.silent).toBe(3);
    expect(await silentGauge()).toBe(3);
    await metrics.stop();

    // `regency status` without a collector measures the same thresholds on the wall stamps.
    const stored = new Map((await read.villages()).map((r) => [r.gw, r]));
    const wall = new FakeClock({ wall: at + 31_000 });
    const ws = wallSilence(wall, 300);
    expect(ws.silent(stored.get(fast) as never)).toBe(true);
    expect(ws.silent(stored.get(quiet) as never)).toBe(false);
    wall.advance(270_000);
    expect(ws.silent(stored.get(quiet) as never)).toBe(true);
    expect(ws.silent(stored.get(slow) as never)).toBe(false);
  });

  it('keeps the interval a later birth without one does not repeat, and takes a new one', async () => {
    const [fast] = codes as [string];
    const ingest = new IngestRepo({
      db: opened.db,
      dialect: opened.dialect,
      sqlite: opened.sqlite,
      repairAfterMs: 300_000,
    });
    const read = new ReadRepo({ db: opened.db });
    await ingest.commit([{ item: status(fast, {}), atMs: 1 }]);
    expect((await read.villages()).find((r) => r.gw === fast)?.health_interval_s).toBe(10);
    await ingest.commit([{ item: status(fast, { health_interval_s: 45 }), atMs: 2 }]);
    expect((await read.villages()).find((r) => r.gw === fast)?.health_interval_s).toBe(45);
  });
});
