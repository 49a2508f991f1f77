import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { launchChromium, screenshot } from './browser.js';
import { seedCharts } from './chart-seed.js';
import { ensurePageBuilt } from './ensure-page.js';
import { FakeClock, type Harness, startHarness } from './harness.js';

beforeAll(() => ensurePageBuilt());

const TOKEN = 'page-charts-kiosk-token-0123456789abcdef';
// The box's clock; the browser's own date (the suite may run a year ahead) must not matter.
const clock = new FakeClock({ wall: Date.parse('2026-11-28T03:01:30Z') });

describe('charts on the page (seeded week of history, real Chromium)', () => {
  const dir = tempDir('kgw-page-charts-');
  let h: Harness;
  let browser: Browser;
  let page: Page;

  const at = async (width: number, name: string, ready: string) => {
    await page.setViewportSize({ width, height: width < 500 ? 740 : 900 });
    // Charts are drawn for the width they get: redraw by re-entering the tab.
    await page.evaluate(`location.hash = '#log'`);
    await page.waitForSelector('[data-view="log"]');
    await page.evaluate(`location.hash = '#${name}'`);
    await page.waitForSelector(ready);
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(1);
    await screenshot(page, `charts-${name}-${width}`);
  };

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
          { id: 'printer-1', name: 'Printer Aula', kind: 'printer' },
        ],
      },
    });
    seedCharts(h);
    const url = `http://127.0.0.1:${h.app.http.address!.port}`;
    const events = Array.from({ length: 4 }, (_, i) => ({
      id: `0b6f1d2e-1c3a-4b5d-8e9f-00000000002${i}`,
      type: 'service_use',
      service: i < 3 ? 'ktp-el' : 'kk',
    }));
    const pushed = await fetch(`${url}/api/v1/devices/adm-1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events }),
    });
    expect(pushed.status).toBe(202);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(url);
    await page.fill('#code', h.setupCode());
    await page.fill('#name', 'ana');
    await page.fill('#password', 'password-charts');
    await page.fill('#password2', 'password-charts');
    await page.click('#submit');
    await page.waitForSelector('#verdict-text');
  });
  afterAll(async () => {
    await browser?.close();
    await h?.stop();
    dir.cleanup();
  });

  it('overview: the verdict first, then a 24 h strip per layer, then a week of box health', async () => {
    await page.waitForSelector('#layer-strips .strip-row svg');
    const order = await page.$$eval('main > section', (els) => els.slice(0, 2).map((e) => e.id));
    expect(order).toEqual(['verdict', 'layer-strips']);
    const rows = await page.$$eval('#layer-strips .strip-row', (els) =>
      els.map((e) => e.getAttribute('data-layer')),
    );
    expect(rows).toEqual(['link', 'lan', 'isp', 'internet']);
    await page.waitForSelector('#health-week .spark-row svg');
    // The seeded undervoltage hour: 14 readings, drawn as one bar.
    expect(await page.textContent('#health-week [data-series="undervoltage"] .spark-value')).toBe('14');
    expect(await page.$$eval('#health-week [data-series="undervoltage"] rect', (els) => els.length)).toBe(1);
    expect(
      await page.$$eval('#health-week [data-series="temperature"] path.spark', (els) => els.length),
    ).toBe(1);
    expect(await page.textContent('#write-budget')).toContain('100 MB');
    await at(1280, 'ringkasan', '#health-week .spark-row svg');
    await at(360, 'ringkasan', '#health-week .spark-row svg');
  });

  it('uplink: loss and RTT per layer with the outages shaded as ISP, and the unsynced mark', async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.click('#tab-uplink');
    await page.waitForSelector('#loss-chart svg');
    const layers = await page.$$eval('#loss-chart .series', (els) =>
      els.map((e) => e.getAttribute('data-key')),
    );
    expect(layers).toEqual(['lan', 'isp', 'internet']);
    expect(await page.$$eval('#loss-chart .series path', (els) => els.length)).toBe(3);
    expect(await page.$$eval('#rtt-chart .unsynced', (els) => els.length)).toBe(1);
    // The legend shows the API's latest values: lan's loss is 0 %.
    expect(await page.textContent('#layer-legend [data-key="lan"]')).toContain('0.0 %');
    await page.click('button[data-range="7d"]');
    // Polled from the test: the page's CSP (no 'unsafe-eval') refuses waitForFunction's
    // in-page polling, which failed whenever the 7-day data was not there at the first look.
    await expect.poll(() => page.$$eval('#loss-chart .band[data-layer="isp"]', (els) => els.length)).toBe(2);
    expect(await page.$$eval('#throughput-chart circle', (els) => els.length)).toBe(2);
    expect(await page.textContent('#throughput-last')).toContain('9.7 Mbit/s');
  });

  it('uplink: the heat map marks 18:00 on Wednesday and Thursday; the calendar has those days below 100 %', async () => {
    await page.waitForSelector('#heatmap rect.cell');
    const hot = await page.$$eval('#heatmap rect.hot', (els) =>
      els.map(
        (e) => `${e.getAttribute('data-wd')}@${e.getAttribute('data-hour')}=${e.getAttribute('data-min')}`,
      ),
    );
    expect(hot).toEqual(['2@18=60', '3@18=60']);
    const pct = (day: string) =>
      page.$eval(`#calendar [data-day="${day}"]`, (e) => e.getAttribute('data-pct') ?? '');
    expect(Number(await pct('2026-11-25'))).toBeLessThan(100);
    expect(Number(await pct('2026-11-26'))).toBeLessThan(100);
    expect(Number(await pct('2026-11-27'))).toBe(100);
    expect(await page.$eval('#calendar [data-day="2026-11-25"]', (e) => e.getAttribute('class'))).toContain(
      'p-fair',
    );
    expect(await page.textContent('#worst-days')).toContain('2026-11-25');
    await at(1280, 'uplink', '#heatmap rect.cell');
    await at(360, 'uplink', '#heatmap rect.cell');
  });

  it('devices: a 7-day strip per device with the offline afternoon, usage per service per day', async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.click('#tab-perangkat');
    await page.waitForSelector('#device-strips .strip-row svg');
    const states = await page.$$eval('#device-strips [data-device="adm-1"] rect.seg', (els) =>
      els.map((e) => e.getAttribute('data-state')),
    );
    expect(states.slice(0, 4)).toEqual(['unknown', 'online', 'offline', 'online']);
    const bars = await page.$$eval('#usage [data-service="ktp-el"] .bar', (els) =>
      els.map((e) => Number(e.getAttribute('data-value'))),
    );
    expect(bars).toEqual([0, 0, 0, 0, 0, 0, 3]);
    expect(await page.textContent('#usage [data-service="kk"] figcaption')).toContain('kk');
    await at(1280, 'perangkat', '#device-strips .strip-row svg');
    await at(360, 'perangkat', '#device-strips .strip-row svg');
  });

  // Before: charts kept the width they were first drawn at; turning a phone left them cut off
  // or half the screen until the tab was opened again.
  it('charts follow a rotation: redrawn for the new width in place, the chosen range kept', async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.evaluate(`location.hash = '#uplink'`);
    await page.waitForSelector('#loss-chart svg');
    await page.click('button[data-range="7d"]');
    await expect.poll(() => page.$$eval('#loss-chart .band[data-layer="isp"]', (els) => els.length)).toBe(2);
    const width = (sel: string) => page.$eval(sel, (e) => Number(e.getAttribute('width')));
    const wide = await width('#loss-chart svg');
    const heatWide = await width('#heatmap svg');
    await page.setViewportSize({ width: 360, height: 740 });
    await expect.poll(() => width('#loss-chart svg')).toBeLessThan(360);
    expect(await width('#loss-chart svg')).toBeLessThan(wide);
    expect(await width('#heatmap svg')).toBeLessThan(heatWide);
    // Still the 7-day range, not a fresh tab.
    expect(await page.$$eval('#loss-chart .band[data-layer="isp"]', (els) => els.length)).toBe(2);
    expect(
      await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth'),
    ).toBeLessThanOrEqual(1);
    // Landscape: wider again.
    await page.setViewportSize({ width: 740, height: 360 });
    await expect.poll(() => width('#loss-chart svg')).toBeGreaterThan(500);
    await screenshot(page, 'charts-uplink-rotated-740');
  });
});
