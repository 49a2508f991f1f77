import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LinkStatus } from '../../src/status/types.js';
import { HistoryRepo } from '../../src/uplink/history-repo.js';
import { OutageRepo } from '../../src/uplink/outage-repo.js';
import type { RollupRow } from '../../src/uplink/rollup.js';
import { tempDir } from '../helpers/tmp.js';
import { launchChromium, screenshot } from './browser.js';
import { ensurePageBuilt } from './ensure-page.js';
import { FakeClock, type Harness, startHarness } from './harness.js';

// The page must exist even if the build step only ran tsc.
beforeAll(() => ensurePageBuilt());

/**
 * The page with data. The real uplink module's tables are seeded with a day of history and
 * two outages (through its own repositories), and its real routes answer the page; a
 * stand-in status section supplies the live link verdict; bus events drive live updates.
 * Devices are the real module, fed through its push API with a kiosk token.
 */
const TOKEN = 'page-data-kiosk-token-0123456789abcdef';
const H = 3600_000;
const CUT_ROWS = 7;

/** 24 h of minute rollups every 10 minutes, with a 70-minute ISP cut in the middle. */
function seedHistory(h: Harness): void {
  // The harness's clock (possibly a fake one) is what the routes measure "now" by.
  const NOW = Math.floor(h.app.deps.clock.wallMs() / 60_000) * 60_000;
  const db = () => h.app.deps.store.db;
  const repo = new HistoryRepo({ db });
  const rows: RollupRow[] = [];
  const wave = (i: number, base: number, amp: number) => Math.max(0.1, base + amp * Math.sin(i / 9));
  let i = 0;
  for (let t = NOW - 24 * H; t <= NOW; t += 10 * 60_000, i++) {
    const cut = i > 120 && i <= 120 + CUT_ROWS;
    const row = (key: string, down: boolean, rtt: number | null): RollupRow => ({
      t,
      key,
      n: 60,
      ok: down ? 0 : 60,
      sent: 60,
      lost: down ? 60 : 0,
      rtt_sum: rtt === null || down ? 0 : rtt * 60,
      rtt_n: rtt === null || down ? 0 : 60,
      rtt_max: rtt === null || down ? null : rtt,
      up_ms: down ? 0 : 600_000,
      degraded_ms: 0,
      down_ms: down ? 600_000 : 0,
      unknown_ms: 0,
    });
    rows.push(row('layer:lan', false, wave(i, 1.2, 0.4)));
    rows.push(row('layer:isp', cut, wave(i, 8, 3)));
    rows.push(row('layer:internet', cut, wave(i, 35, 10)));
    rows.push(row('probe:router', false, wave(i, 1.2, 0.4)));
    rows.push(row('link', cut, null));
  }
  h.app.deps.store.batch(() => {
    repo.addMinutes(rows);
    repo.rollupHours(NOW - 25 * H, NOW + H);
  });
  const outages = new OutageRepo({ db, clock: h.app.deps.clock });
  const ledger = [
    { start: Date.parse('2026-11-27T23:00:00Z'), minutes: 80, layer: 'isp' },
    { start: Date.parse('2026-11-26T06:10:00Z'), minutes: 4.5, layer: 'lan' },
  ];
  for (const o of ledger.reverse()) {
    const id = outages.open({ wall: o.start, mono: 0 }, o.layer, 0, 1.2);
    const end = o.start + o.minutes * 60_000;
    outages.close(id, {
      start: { wall: o.start, mono: 0 },
      end: { wall: end, mono: o.minutes * 60_000 },
      duration_ms: o.minutes * 60_000,
      fault_layer: o.layer as 'isp' | 'lan',
      loss_pct_before: 0,
      rtt_ms_before: 1.2,
    });
  }
}

// The box's clock for this file: fixed, and off the hour so the current hour's usage is inside
// a window that ends "now". Every time the page shows is measured against it, not the date
// the suite runs on.
const clock = new FakeClock({ wall: Date.parse('2026-11-28T03:01:30Z') });
const tenMinutesAgo = new Date(clock.wall - 10 * 60_000).toISOString();
const down: LinkStatus = {
  verdict: 'down',
  fault_layer: 'isp',
  since: tenMinutesAgo,
  layers: {
    lan: { state: 'up', loss_pct: 0, rtt_ms: 1.1 },
    isp: { state: 'down', loss_pct: 100, rtt_ms: null },
    internet: { state: 'unknown', loss_pct: null, rtt_ms: null },
  },
  outage: { start: tenMinutesAgo, fault_layer: 'isp' },
};
describe('page with module data (seeded uplink tables)', () => {
  const dir = tempDir('kgw-web-data-');
  let h: Harness;
  let browser: Browser;
  let page: Page;
  let link = down;
  let url: string;

  beforeAll(async () => {
    const tokenFile = join(dir.path, 'adm-1.token');
    writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    h = await startHarness(dir.path, {
      clock,
      config: {
        devices: [
          {
            id: 'adm-1',
            name: 'Anjungan Mandiri 1',
            kind: 'kiosk',
            token_file: tokenFile,
            heartbeat_timeout_s: 300,
          },
          { id: 'adm-2', name: 'Anjungan Mandiri 2', kind: 'kiosk' },
        ],
      },
    });
    h.app.deps.status.register({ section: 'link', live: () => link });
    seedHistory(h);
    url = `http://127.0.0.1:${h.app.http.address!.port}`;
    const push = (path: string, body: unknown) =>
      fetch(`${url}/api/v1/devices/adm-1/${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect(
      (await push('heartbeat', { status: 'ok', app_version: '2.4.1', telemetry: { paper: 'low' } })).status,
    ).toBe(204);
    const events = Array.from({ length: 3 }, (_, i) => ({
      id: `0b6f1d2e-1c3a-4b5d-8e9f-00000000000${i}`,
      type: 'service_use',
      service: 'ktp-el',
    }));
    expect((await push('events', { events })).status).toBe(202);
    const code = h.setupCode();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(url);
    await page.fill('#code', code);
    await page.fill('#name', 'ana');
    await page.fill('#password', 'password-data');
    await page.fill('#password2', 'password-data');
    await page.click('#submit');
    await page.waitForSelector('#verdict-text');
  });
  afterAll(async () => {
    await browser?.close();
    await h?.stop();
    dir.cleanup();
  });

  it('says what failed and what to check, with the outage timer running', async () => {
    expect(await page.textContent('#verdict-text')).toBe('Internet putus');
    expect(await page.getAttribute('#fault-layer', 'data-layer')).toBe('isp');
    expect(await page.textContent('#advice')).toBe(
      'Fiber/ISP putus — periksa lampu LOS pada ONT, hubungi ISP.',
    );
    const first = await page.textContent('#outage');
    expect(first).toMatch(/Gangguan berlangsung 10 mnt( \d+ dtk)?/);
    // The timer ticks on the page between snapshots.
    await expect.poll(() => page.textContent('#outage'), { timeout: 3000 }).not.toBe(first);
    expect(await page.$$eval('.tile', (els) => els.map((e) => e.getAttribute('data-state')))).toEqual([
      'degraded',
      'unknown',
    ]);
    await screenshot(page, 'data-ringkasan-down-1280');
    await page.setViewportSize({ width: 360, height: 740 });
    await screenshot(page, 'data-ringkasan-down-360');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('updates live from a bus event, without waiting for the next snapshot', async () => {
    link = {
      ...down,
      verdict: 'up',
      fault_layer: null,
      outage: null,
      layers: { lan: { state: 'up', loss_pct: 0, rtt_ms: 1 } },
    };
    h.app.deps.bus.emit('link.changed', link);
    await page.waitForSelector('.verdict.v-up', { timeout: 3000 });
    expect(await page.textContent('#verdict-text')).toBe('Internet normal');
  });

  it('draws loss and latency charts, uptime and the outage ledger', async () => {
    await page.click('#tab-uplink');
    await page.waitForSelector('#charts svg');
    expect(await page.$$eval('#charts .chart svg', (els) => els.length)).toBe(2);
    // The seeded 70-minute cut: ISP loss drawn, and no outage band for the ledger's older outages.
    expect(
      await page.$$eval('#loss-chart .series', (els) => els.map((e) => e.getAttribute('data-key'))),
    ).toEqual(['lan', 'isp', 'internet']);
    // The page shows what the real uptime query says; the seeded cut keeps it below 100 %.
    const db = () => h.app.deps.store.db;
    const now = h.app.deps.clock.wallMs();
    const served = new HistoryRepo({ db }).uptime(now - 30 * 24 * H, now).link?.up_pct ?? 100;
    expect(served).toBeLessThan(100);
    expect(await page.textContent('#uptime')).toContain(`${served.toFixed(2)} %`);
    const rows = await page.$$eval('#outages tr', (els) => els.map((e) => e.textContent));
    expect(rows[1]).toContain('28-11-2026 06:00:00 WIB'); // 23:00 UTC is 06:00 WIB next day
    expect(rows[1]).toContain('ISP / fiber (ONT)');
    await screenshot(page, 'data-uplink-1280');
    await page.setViewportSize({ width: 360, height: 740 });
    await page.click('#tab-ringkasan');
    await page.click('#tab-uplink');
    await page.waitForSelector('#charts svg');
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(1);
    await screenshot(page, 'data-uplink-360');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('shows device details and usage counts generically', async () => {
    await page.click('#tab-perangkat');
    await page.waitForSelector('section.device[data-device="adm-1"] button');
    await page.click('section.device[data-device="adm-1"] button');
    await page.waitForSelector('section.device[data-device="adm-1"] .detail');
    const text = await page.textContent('section.device[data-device="adm-1"]');
    expect(text).toContain('2.4.1');
    expect(text).toContain('kertas hampir habis'); // the module's reason, in Indonesian
    expect(await page.textContent('#usage')).toContain('ktp-el');
    await screenshot(page, 'data-perangkat-1280');
  });
});
