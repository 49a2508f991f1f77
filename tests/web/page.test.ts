import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestDaemon } from '../helpers/daemon.js';
import { launchChromium, screenshot } from './browser.js';
import { ensurePageBuilt } from './ensure-page.js';

// The page must exist even if the build step only ran tsc.
beforeAll(() => ensurePageBuilt());

const PASSWORD = 'teknisi-banyuwangi';
const TABS = ['ringkasan', 'uplink', 'perangkat', 'diagnostik', 'tindakan', 'log'];

describe('technician page in headless Chromium against the real daemon', () => {
  let d: TestDaemon;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    d = await TestDaemon.start({
      config: {
        devices: [
          { id: 'adm-1', name: 'Anjungan Mandiri 1', kind: 'kiosk' },
          { id: 'printer-1', name: 'Printer Pelayanan', kind: 'printer' },
        ],
      },
    });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (e) => errors.push(e.message));
  });
  afterAll(async () => {
    await browser?.close();
    await d?.dispose();
  });

  it('sets up the first account with the one-time setup code', async () => {
    const code = await d.setupCode();
    await page.goto(d.url);
    await page.waitForSelector('#setup-form');
    expect(await page.textContent('h1')).toBe('Penyiapan pertama');
    await screenshot(page, 'setup-1280');
    await page.setViewportSize({ width: 360, height: 740 });
    await screenshot(page, 'setup-360');
    await page.setViewportSize({ width: 1280, height: 900 });

    await page.fill('#code', 'AAAAA-BBBBB');
    await page.fill('#name', 'ana');
    await page.fill('#password', PASSWORD);
    await page.fill('#password2', PASSWORD);
    await page.click('#submit');
    await page.waitForSelector('p.error:not([hidden])');
    expect(await page.textContent('p.error')).toContain('salah');

    await page.fill('#code', code.toLowerCase()); // case does not matter
    await page.click('#submit');
    await page.waitForSelector('#verdict-text');
    expect(await page.textContent('#verdict-text')).toBe('Status internet belum diketahui');
  });

  it('shows the overview live, in WIB, with device tiles', async () => {
    await page.waitForSelector('#updated:has-text("WIB")');
    expect(await page.textContent('#updated')).toMatch(/^Terakhir diperbarui: \d{2}:\d{2}:\d{2} WIB$/);
    const tiles = await page.$$eval('.tile', (els) => els.map((e) => e.getAttribute('data-device')));
    expect(tiles).toEqual(['adm-1', 'printer-1']);
    expect(await page.textContent('#clock')).toBeTruthy();
  });

  it('has every tab, screenshotted at 1280 px and 360 px', async () => {
    for (const width of [1280, 360]) {
      await page.setViewportSize({ width, height: width === 360 ? 740 : 900 });
      for (const tab of TABS) {
        await page.click(`#tab-${tab}`);
        await page.waitForSelector(`main[data-view="${tab}"]`);
        await page.waitForTimeout(300);
        // Nothing wider than the phone screen: no sideways scrolling at 360 px.
        const overflow = await page.evaluate<number>(
          'document.documentElement.scrollWidth - window.innerWidth',
        );
        expect(overflow, `${tab} at ${width}px`).toBeLessThanOrEqual(1);
        await screenshot(page, `${tab}-${width}`);
      }
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('runs an allow-listed diagnostic and shows its result', async () => {
    await page.click('#tab-diagnostik');
    await page.click('#run-self-check');
    await page.waitForSelector('#diag-results li.ok');
    expect(await page.textContent('#diag-results li.ok')).toContain('Berhasil');
  });

  it('shows the log and offers the bundle', async () => {
    await page.click('#tab-log');
    await page.selectOption('#log-level', 'debug');
    await page.waitForSelector('#log-lines li:not(.muted)');
    // The audit trail shows the setup and the diagnostic run, in Indonesian.
    await page.waitForSelector('#audit table');
    const audit = await page.textContent('#audit');
    expect(audit).toContain('penyiapan pertama');
    expect(audit).toContain('diagnostic:self-check');
    await page.click('#tab-tindakan');
    expect(await page.getAttribute('#bundle', 'href')).toBe('/api/v1/bundle');
    const res = await page.request.get(`${d.url}/api/v1/bundle`);
    expect(res.status()).toBe(200);
  });

  it('switches language, remembers it, and switches back', async () => {
    await page.click('#tab-ringkasan');
    await page.click('#lang');
    await page.waitForSelector('#tab-ringkasan:text("Overview")');
    expect(await page.textContent('#verdict-text')).toBe('Internet state not known yet');
    await page.reload();
    await page.waitForSelector('#tab-ringkasan:text("Overview")');
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    await screenshot(page, 'ringkasan-en-1280');
    await page.click('#lang');
    await page.waitForSelector('#tab-ringkasan:text("Ringkasan")');
  });

  it('goes visibly stale when the daemon stops answering, and recovers', async () => {
    const pid = d.proc!.pid!;
    process.kill(pid, 'SIGSTOP');
    try {
      await page.waitForSelector('#stale:not([hidden])', { timeout: 25_000 });
      expect(await page.textContent('#stale')).toContain('tidak diperbarui');
      expect(await page.evaluate<boolean>("document.body.classList.contains('is-stale')")).toBe(true);
      await screenshot(page, 'stale-1280');
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await page.waitForSelector('#stale', { state: 'hidden', timeout: 15_000 });
  }, 60_000);

  it('logs out, refuses the old session, and logs in again', async () => {
    await page.click('#logout');
    await page.waitForSelector('#login-form');
    const status = await page.request.get(`${d.url}/api/v1/status`);
    expect(status.status()).toBe(401);
    await page.fill('#name', 'ana');
    await page.fill('#password', 'wrong-password');
    await page.click('#submit');
    await page.waitForSelector('p.error:not([hidden])');
    expect(await page.textContent('p.error')).toContain('salah');
    await screenshot(page, 'login-1280');
    await page.fill('#password', PASSWORD);
    await page.click('#submit');
    await page.waitForSelector('#verdict-text');
    await page.click('#logout');
    await page.waitForSelector('#login-form');
    expect(errors).toEqual([]);
  });
});
