import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { launchChromium } from './browser.js';
import { seedCharts } from './chart-seed.js';
import { ensurePageBuilt } from './ensure-page.js';
import { FakeClock, type Harness, STATIC_DIR, startHarness } from './harness.js';

beforeAll(() => ensurePageBuilt());

const TOKEN = 'page-a11y-kiosk-token-0123456789abcdef';
// Each tab, and what shows that its charts and data have arrived.
const TABS: Array<[string, string]> = [
  ['ringkasan', '#health-week .spark-row svg'],
  ['uplink', '#heatmap rect.cell'],
  ['perangkat', '#device-strips .strip-row svg'],
  ['diagnostik', '[data-view="diagnostik"]'],
  ['tindakan', '[data-view="tindakan"]'],
  ['log', '[data-view="log"]'],
];
// axe-core's own bundle, injected into the real page (nothing is fetched from outside).
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[] }>;
}

async function seriousViolations(page: Page): Promise<Violation[]> {
  if (!(await page.evaluate('typeof window.axe !== "undefined"'))) await page.addScriptTag({ content: AXE });
  const found = (await page.evaluate(
    `window.axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) })))`,
  )) as Violation[];
  return found.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

describe('the technician page is accessible and light (axe-core in real Chromium)', () => {
  const dir = tempDir('kgw-page-a11y-');
  let h: Harness;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    const tokenFile = join(dir.path, 'adm-1.token');
    writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    h = await startHarness(dir.path, {
      clock: new FakeClock({ wall: Date.parse('2026-11-28T03:01:30Z') }),
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
    browser = await launchChromium();
    // The page's CSP (script-src 'self') refuses the injected audit script: the audit's own
    // context bypasses it; the page under test is unchanged.
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
    page = await context.newPage();
    await page.goto(`http://127.0.0.1:${h.app.http.address!.port}`);
  });
  afterAll(async () => {
    await browser?.close();
    await h?.stop();
    dir.cleanup();
  });

  it('the setup screen has no serious or critical violation', async () => {
    await page.waitForSelector('#code');
    expect(await seriousViolations(page)).toEqual([]);
    await page.fill('#code', h.setupCode());
    await page.fill('#name', 'ana');
    await page.fill('#password', 'password-a11y');
    await page.fill('#password2', 'password-a11y');
    await page.click('#submit');
    await page.waitForSelector('#verdict-text');
  });

  for (const width of [1280, 360]) {
    it(`every tab at ${width} px, with its charts drawn, has no serious or critical violation`, async () => {
      await page.setViewportSize({ width, height: width < 500 ? 740 : 900 });
      for (const [tab, ready] of TABS) {
        await page.evaluate(`location.hash = '#${tab}'`);
        await page.waitForSelector(`[data-view="${tab}"]`);
        // The on-demand chart chunk and the view's data have arrived before the audit.
        await page.waitForSelector(ready);
        const bad = await seriousViolations(page);
        expect(bad, `${tab}: ${JSON.stringify(bad, null, 1)}`).toEqual([]);
      }
    });
  }

  it('weighs under 80 KiB brotli in all (first view and the charts chunk together)', () => {
    const files = [join(STATIC_DIR, 'index.html.br')];
    for (const f of readdirSync(join(STATIC_DIR, 'assets')))
      if (f.endsWith('.br')) files.push(join(STATIC_DIR, 'assets', f));
    const total = files.reduce((sum, f) => sum + statSync(f).size, 0);
    expect(files.length).toBeGreaterThanOrEqual(3);
    expect(total).toBeLessThan(80 * 1024);
  });
});
