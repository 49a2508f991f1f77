import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, waitFor } from '../helpers/net.js';
import { launchChromium, screenshot } from '../web/browser.js';
import { RegencyFixture } from './fixture.js';
import { type RegencyDaemon, regencyCli, type VillagePublisher, villageCodes } from './helpers.js';
import { seedVillage } from './seed.js';

const SILENT_AFTER_S = 15;

describe('the fleet page in Chromium: login, the wall of 203 villages, a village (sqlite)', () => {
  const f = new RegencyFixture({
    dialect: 'sqlite',
    prefix: 'kgw-regency-page-',
    config: { silent_after_s: SILENT_AFTER_S },
    login: { name: 'noc-ana', password: 'sandi-panjang-1' },
  });
  const pub: VillagePublisher = f.pub;
  let daemon: RegencyDaemon;
  let browser: Browser;
  let codes: string[] = [];

  beforeAll(async () => {
    await f.start();
    daemon = f.daemon;
    browser = await launchChromium();
    codes = await villageCodes(203);
    // Silent: heard once, then nothing for longer than silent_after_s.
    for (const gw of [codes[5], codes[77], codes[150]])
      await seedVillage(pub, gw as string, { verdict: 'up' });
    await sleep((SILENT_AFTER_S + 1) * 1000);
    const now = Date.now();
    for (const [i, gw] of codes.slice(0, 170).entries()) {
      if ([5, 77, 150].includes(i)) continue;
      const o =
        i % 23 === 3
          ? { verdict: 'down', fault_layer: i % 2 ? 'isp' : 'lan', sinceMs: now - (i + 5) * 60_000 }
          : i % 17 === 4
            ? { verdict: 'degraded', fault_layer: 'dns', sinceMs: now - 20 * 60_000 }
            : { verdict: 'up', synced: i % 41 !== 9, depth: i % 53 === 7 ? 850 : 0 };
      await seedVillage(pub, gw as string, o);
    }
    // A stolen box, revoked: marked on the wall and on its page.
    for (const cmd of ['provision', 'revoke'])
      await regencyCli([
        cmd,
        codes[30] as string,
        '--out',
        `${f.tmp.path}/prov`,
        '--config',
        daemon.configPath,
      ]);
    // Clean stop: offline.
    await pub.raw(`kampung/v1/${codes[12]}/status`, JSON.stringify({ online: false, clean: true }), true);
    await waitFor(async () => {
      const f = (await daemon.http<Array<{ state: string }>>('/api/v1/fleet')).body;
      return f.filter((v) => v.state !== 'unknown').length >= 170 && f.some((v) => v.state === 'offline');
    }, 20_000);
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await f.stop();
  });

  it('logs in in Bahasa Indonesia and shows the wall grouped by kecamatan, filters working (1280 and 360 px)', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${daemon.origin}/`);
    await page.waitForSelector('#login-form');
    expect(await page.textContent('h1')).toBe('Masuk');
    await page.fill('#name', 'noc-ana');
    await page.fill('#password', 'sandi-panjang-1');
    await page.click('#submit');
    await page.waitForSelector('.tile');
    expect(await page.locator('.tile').count()).toBe(203);
    expect(await page.locator('.kec').count()).toBeGreaterThan(20);
    expect(await page.locator('.tile[data-state="silent"]').count()).toBe(3);
    const down = await page.locator('.tile[data-state="down"]').count();
    expect(down).toBeGreaterThan(3);
    expect(await page.locator('.tile.st-down .tstate').first().textContent()).toMatch(
      /^Putus · (ISP|LAN desa)$/,
    );
    await screenshot(page, 'regency-wall-1280');
    await page.click('button[data-filter="down"]');
    expect(await page.locator('.tile').count()).toBe(down);
    await page.click('button[data-filter="clock"]');
    expect(await page.locator('.tile').count()).toBeGreaterThan(0);
    await page.click('button[data-filter="all"]');
    expect(await page.locator('.tile.is-revoked').count()).toBe(1);
    expect(await page.textContent(`.tile[data-code="${codes[30]}"] .flag.revoked`)).toBe('dicabut');
    await page.click('button[data-filter="revoked"]');
    expect(await page.locator('.tile').count()).toBe(1);
    await page.click('button[data-filter="all"]');
    await page.setViewportSize({ width: 360, height: 780 });
    const overflow = await page.evaluate('document.documentElement.scrollWidth > window.innerWidth');
    expect(overflow).toBe(false);
    await screenshot(page, 'regency-wall-360');
    await page.close();
  });

  it('opens a village page with its state, chart, box health and the English switch', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page
      .context()
      .addCookies([
        { name: 'kgw_regency_session', value: daemon.cookie.split('=')[1] as string, url: daemon.origin },
      ]);
    const downCode = codes[3] as string;
    await page.goto(`${daemon.origin}/#/desa/${downCode}`);
    await page.waitForSelector('#village-state');
    expect(await page.textContent('#village-state')).toMatch(/^Putus/);
    await page.waitForSelector('#history svg, #history p');
    // The incident its down sample opened, derived from the verdict history, with its evidence.
    await page.waitForSelector('#incidents tbody tr');
    const incident = (await page.textContent('#incidents tbody tr')) ?? '';
    expect(incident).toContain('ISP');
    expect(incident).toContain('masih berlangsung');
    expect(incident).toMatch(/1 probe gagal/);
    await screenshot(page, 'regency-village-1280');
    await page.click('#lang');
    await page.waitForSelector('#village-state');
    await waitFor(async () => /^Down/.test((await page.textContent('#village-state')) ?? ''), 5_000);
    await page.setViewportSize({ width: 360, height: 780 });
    await screenshot(page, 'regency-village-360');
    await page.goto(`${daemon.origin}/#/desa/${codes[30]}`);
    await page.waitForSelector('#village-revoked');
    expect(await page.textContent('#village-revoked')).toMatch(
      /^This village's identity was revoked on \d{2}-\d{2}-\d{4} \d{2}:\d{2} WIB/,
    );
    await page.click('#lang');
    await waitFor(
      async () => /^Identitas desa ini dicabut/.test((await page.textContent('#village-revoked')) ?? ''),
      5_000,
    );
    await page.close();
  });
});
