import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { Scheduler } from '../../src/core/scheduler.js';
import { wibDay } from '../../src/core/wib.js';
import { classify } from '../../src/regency/classify.js';
import { validateRegencyConfigText } from '../../src/regency/config.js';
import type { RegencyConfig } from '../../src/regency/config-schema.js';
import { availabilityReport } from '../../src/regency/reports/availability.js';
import { wibMonth } from '../../src/regency/reports/period.js';
import { usageReport } from '../../src/regency/reports/usage.js';
import { Retention } from '../../src/regency/retention.js';
import { IngestRepo, type Received } from '../../src/regency/store/ingest-repo.js';
import { type OpenedDb, openRegencyDb } from '../../src/regency/store/open-db.js';
import { ReportRepo } from '../../src/regency/store/report-repo.js';
import { RetentionRepo } from '../../src/regency/store/retention-repo.js';
import { VillageRegistry } from '../../src/regency/villages.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { tempDir } from '../helpers/tmp.js';
import { DIALECTS, receivedKinds, TestStore, testConfig, VillagePublisher, villageCodes } from './helpers.js';

const log = pino({ level: 'silent' });
const DAY = 86_400_000;

describe('retention config', () => {
  it('keeps the daily tier at least as long as the raw one', () => {
    const r = validateRegencyConfigText(
      stringify({
        regency: { name: 'X' },
        mqtt: { url: 'mqtt://b' },
        retention: { raw_days: 60, daily_days: 30 },
      }),
      '/tmp/r.yaml',
    );
    expect(r.ok ? [] : r.issues.map((i) => i.path)).toEqual(['retention.daily_days']);
    const d = validateRegencyConfigText(
      stringify({ regency: { name: 'X' }, mqtt: { url: 'mqtt://b' } }),
      '/tmp/r.yaml',
    );
    expect(d.ok && d.config.retention).toEqual({ raw_days: 35, daily_days: 1830, batch: 5000 });
  });
});

describe.each(DIALECTS)('retention on %s', (dialect) => {
  const tmp = tempDir('kgw-regency-retention-');
  const store = new TestStore(dialect, tmp.path);
  const pub = new VillagePublisher();
  const clock = new FakeClock();
  let opened: OpenedDb;
  let config: RegencyConfig;

  beforeAll(async () => {
    await store.create();
    config = testConfig(store, tmp.path, { retention: { raw_days: 20, daily_days: 40, batch: 100 } });
    opened = await openRegencyDb(config, log);
  });
  afterAll(async () => {
    await opened?.db.destroy();
    await store.drop();
    tmp.cleanup();
  });

  it('prunes raw envelopes after raw_days in batches, keeps daily aggregates and reports until daily_days', async () => {
    const [a, b] = (await villageCodes(2)) as [string, string];
    const now = clock.wallMs();
    const { health, event, outage, usage } = receivedKinds(pub);
    const old = now - 25 * DAY;
    const recent = now - 5 * DAY;
    const mid = now - 30 * DAY;
    const ancient = now - 70 * DAY; // another WIB month than `mid`
    const batch: Received[] = [];
    for (let i = 0; i < 250; i++) batch.push(health(a, old + i * 1000));
    for (let i = 0; i < 3; i++) batch.push(event(a, old + i));
    for (let i = 0; i < 5; i++) batch.push(health(b, old + i), health(a, recent + i));
    batch.push(outage(a, mid), outage(a, ancient), usage(b, mid), usage(b, ancient), event(b, recent));
    const ingest = new IngestRepo({
      db: opened.db,
      dialect: opened.dialect,
      sqlite: opened.sqlite,
      repairAfterMs: 300_000,
    });
    await ingest.commit(batch);
    const bad = (at: number) => ({
      item: classify('kampung/v1', 'kampung/v1/x/y/z', Buffer.from('x'), false),
      atMs: at,
    });
    await ingest.commit([bad(old), bad(recent)]);

    const reports = new ReportRepo({ db: opened.db });
    const registry = VillageRegistry.load(undefined);
    const month = wibMonth(wibDay(mid).slice(0, 7));
    const before = [
      await availabilityReport(reports, registry, month, now),
      await usageReport(reports, registry, month),
    ];

    const retention = new Retention({
      config,
      repo: new RetentionRepo({ db: opened.db }),
      clock,
      log,
      scheduler: new Scheduler({ clock, log }),
    });
    const res = await retention.prune();
    expect(res).toMatchObject({ raw: 258, report: 2, quarantine: 1 });
    // a's 253 old raw rows go in three statements (100, 100, 53): never one long transaction.
    expect(res.batches).toBeGreaterThanOrEqual(3 + 1 + 2);
    expect(res.daily).toBeGreaterThanOrEqual(2); // a's and b's ledger day 70 days back

    const kinds = await opened.db
      .selectFrom('messages')
      .select(['gw', 'kind', 'day'])
      .orderBy('gw')
      .orderBy('kind')
      .orderBy('day')
      .execute();
    const summary = [...new Set(kinds.map((k) => `${k.gw === a ? 'a' : 'b'}:${k.kind}:${k.day}`))];
    expect(summary).toEqual([
      `a:health:${wibDay(recent)}`,
      `a:outage:${wibDay(mid)}`,
      `b:event:${wibDay(recent)}`,
      `b:usage:${wibDay(mid)}`,
    ]);
    expect(kinds.filter((k) => k.kind === 'health')).toHaveLength(5);
    const days = await opened.db.selectFrom('ledger_days').select('day').distinct().orderBy('day').execute();
    expect(days.map((d) => d.day)).toEqual([wibDay(mid), wibDay(old), wibDay(recent)].sort());
    // The month's reports read the same after the raw rows are gone.
    const after = [
      await availabilityReport(reports, registry, month, now),
      await usageReport(reports, registry, month),
    ];
    expect(after).toEqual(before);
    expect((await retention.prune()).raw + (await retention.prune()).report).toBe(0);
  });
});
