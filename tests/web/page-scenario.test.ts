import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestDaemon } from '../helpers/daemon.js';
import { NetnsLab } from '../helpers/netns.js';
import { tempDir } from '../helpers/tmp.js';
import { launchChromium, screenshot } from './browser.js';
import { ensurePageBuilt } from './ensure-page.js';

// The page must exist even if the build step only ran tsc.
beforeAll(() => ensurePageBuilt());

/**
 * The field scenario: a link cut made in a network namespace shows as down / lan on the
 * overview, and a simulated kiosk that stops its heartbeats shows offline. It needs the
 * uplink monitor and the device push API; each half detects its module (a 404 on its route)
 * and is skipped until that branch is merged.
 */
describe('overview during a link cut and a kiosk going offline', () => {
  const lab = new NetnsLab('kgwweb');
  const dir = tempDir('kgw-web-scn-');
  let d: TestDaemon | undefined;
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
    await d?.dispose();
    lab.destroy();
    dir.cleanup();
  });

  it('shows down / lan and an offline kiosk', { timeout: 90_000 }, async (ctx) => {
    if (!NetnsLab.available()) ctx.skip();
    lab.create('rtr');
    const { a } = lab.veth(null, 'rtr', '10.231.7.1/30', '10.231.7.2/30', 'l');
    const token = 'kiosk-token-for-the-scenario-0123456789';
    const tokenFile = join(dir.path, 'adm-1.token');
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    d = await TestDaemon.start({
      dir: dir.path,
      config: {
        uplink: {
          down_after: 2,
          up_after: 2,
          probes: [{ name: 'router', layer: 'lan', type: 'icmp', host: '10.231.7.2' }],
        },
        devices: [
          {
            id: 'adm-1',
            name: 'Anjungan Mandiri 1',
            kind: 'kiosk',
            token_file: tokenFile,
            heartbeat_timeout_s: 5,
          },
        ],
      },
    });
    const code = await d.setupCode();
    const origin = d.url;
    const setup = await fetch(`${d.url}/api/v1/setup`, {
      method: 'POST',
      headers: { origin, 'content-type': 'application/json' },
      body: JSON.stringify({ code, name: 'ana', password: 'scenario-password' }),
    });
    const cookie = setup.headers.get('set-cookie')!.split(';')[0]!;
    const hasUplink =
      (await fetch(`${d.url}/api/v1/link/history?hours=1`, { headers: { cookie } })).status !== 404;
    const beat = () =>
      fetch(`${d!.url}/api/v1/devices/adm-1/heartbeat`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ status: 'ok' }),
      });
    const hasDevices = (await beat()).status !== 404;
    if (!hasUplink && !hasDevices) ctx.skip();

    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addCookies([{ name: 'kgw_session', value: cookie.split('=')[1]!, url: d.url }]);
    const page = await context.newPage();
    await page.goto(d.url);
    await page.waitForSelector('#verdict-text');

    if (hasUplink) {
      await page.waitForSelector('.verdict.v-up', { timeout: 20_000 });
      lab.setLink(null, a, false);
      await page.waitForSelector('.verdict.v-down', { timeout: 20_000 });
      expect(await page.textContent('#verdict-text')).toBe('Internet putus');
      expect(await page.getAttribute('#fault-layer', 'data-layer')).toBe('lan');
      expect(await page.textContent('#advice')).toContain('periksa listrik dan kabel router');
      await screenshot(page, 'scenario-link-cut-1280');
      lab.setLink(null, a, true);
    }
    if (hasDevices) {
      // A fresh heartbeat: the one sent at setup is older than the timeout after the link cut.
      expect((await beat()).status).toBe(204);
      await page.waitForSelector('.tile[data-device="adm-1"][data-state="online"]', { timeout: 15_000 });
      // No more heartbeats: offline after heartbeat_timeout_s.
      await page.waitForSelector('.tile[data-device="adm-1"][data-state="offline"]', { timeout: 20_000 });
      await screenshot(page, 'scenario-kiosk-offline-1280');
    }
  });
});
