import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wibDay } from '../../src/core/wib.js';
import type { AvailabilityReport } from '../../src/regency/reports/availability.js';
import { MAIN_JS } from '../helpers/daemon.js';
import { waitFor } from '../helpers/net.js';
import { launchChromium, screenshot } from '../web/browser.js';
import { ensurePageBuilt } from '../web/ensure-page.js';

/*
 * The whole demo story in real Chromium, time-compressed (--speed 12): the page's button
 * starts the fiber-cut scenario; each step is checked on the technician page and on the
 * regency's fleet page, with screenshots at 1280 and 360 px (test-artifacts/screenshots).
 */
const GW = '3510170012';
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const SPEED = '12';

interface DemoView {
  scenario: { state: string; step: string | null; steps: Array<{ name: string; started: string }> };
  writes: { submitted: number; queued: number; queued_delivered: number };
  upstream: { applications: number; submissions: number; repeats: number };
  last_stale: { data_date: string | null } | null;
}

describe('kampung-gw demo: the fiber-cut story on the page and the regency wall', () => {
  let proc: ChildProcess | undefined;
  let out = '';
  let browser: Browser;
  let page: Page;
  let wall: Page;
  let origin = '';
  let regency = '';
  let rcookie = '';

  const grab = (re: RegExp) => {
    const m = re.exec(out);
    if (!m?.[1]) throw new Error(`not in demo output: ${re}\n${out}`);
    return m[1];
  };
  const demo = async () =>
    (await page.evaluate(() => fetch('/api/v1/demo').then((r) => r.json()))) as DemoView;
  const step = () => page.getAttribute('#demo-steps li.now', 'data-step').catch(() => null);
  const shots = async (p: Page, name: string) => {
    await screenshot(p, `demo-${name}-1280`);
    await p.setViewportSize({ width: 360, height: 740 });
    await screenshot(p, `demo-${name}-360`);
    await p.setViewportSize({ width: 1280, height: 900 });
  };

  beforeAll(async () => {
    ensurePageBuilt();
    const t0 = Date.now();
    proc = spawn(process.execPath, [MAIN_JS, 'demo', '--speed', SPEED], {
      env: { ...process.env, KAMPUNG_GW_DEMO_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await waitFor(() => out.includes('Ctrl-C'), 15_000);
    process.stdout.write(`${JSON.stringify({ demo_ready_ms: Date.now() - t0 })}\n`);
    origin = grab(/technician page: (http:\/\/127\.0\.0\.1:\d+)\//);
    regency = grab(/regency view: (http:\/\/127\.0\.0\.1:\d+)\//);
    const rs = await fetch(`${regency}/api/v1/setup`, {
      method: 'POST',
      headers: { origin: regency, 'content-type': 'application/json' },
      body: JSON.stringify({
        code: grab(/regency code:\s+([2-9A-Z]{5}-[2-9A-Z]{5})/),
        name: 'kabupaten',
        password: 'coba-coba-demo',
      }),
    });
    expect(rs.status).toBe(201);
    rcookie = rs.headers.get('set-cookie')?.split(';')[0] ?? '';

    browser = await launchChromium();
    // bypassCSP: axe-core is injected as an inline script for the panel's audit.
    page = await browser.newPage({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
    await page.goto(`${origin}/`);
    await page.fill('#code', grab(/setup code:\s+([2-9A-Z]{5}-[2-9A-Z]{5})/));
    await page.fill('#name', 'pemula');
    await page.fill('#password', 'coba-coba-demo');
    await page.fill('#password2', 'coba-coba-demo');
    await page.click('#submit');
    await page.waitForSelector('#verdict-text');
    wall = await browser.newPage({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
    await wall.goto(`${regency}/`);
    await wall.waitForSelector('#login-form');
    await wall.fill('#name', 'kabupaten');
    await wall.fill('#password', 'coba-coba-demo');
    await wall.click('#submit');
    await wall.waitForSelector('.tile');
  }, 40_000);

  afterAll(async () => {
    await browser?.close();
    if (proc && proc.exitCode === null) {
      const exited = new Promise((r) => proc?.once('exit', r));
      proc.kill('SIGINT');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
  }, 15_000);

  it("the wall is alive: the regency's other villages report as simulated gateways", async () => {
    const fleet = async () =>
      (await (await fetch(`${regency}/api/v1/fleet`, { headers: { cookie: rcookie } })).json()) as Array<{
        code: string;
        state: string;
      }>;
    // 202 simulated villages connect with a jittered delay; most are heard within seconds.
    const heard = await waitFor(async () => {
      const others = (await fleet()).filter((v) => v.code !== GW && v.state !== 'unknown');
      return others.length >= 150 ? others : undefined;
    }, 20_000);
    expect(new Set(heard.map((v) => v.code)).size).toBe(heard.length);
    expect(heard.some((v) => v.state === 'online')).toBe(true);
  }, 30_000);

  it('marks the demo, and its start button runs the scenario step by step', async () => {
    expect(await page.textContent('#demo .demo-badge')).toBe('DEMO');
    expect(await page.textContent('#demo-guide')).toContain('Tekan tombol');
    // Before the story: the cache is in use (the overview's card counts its entries).
    await waitFor(async () => ((await demo()).writes.submitted > 0 ? true : undefined), 10_000);
    // The panel passes axe-core (serious and critical rules) like the rest of the page.
    await page.addScriptTag({ content: AXE });
    const violations = (await page.evaluate(
      `window.axe.run('#demo', { resultTypes: ['violations'] }).then((r) => r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id))`,
    )) as string[];
    expect(violations).toEqual([]);
    await shots(page, 'mulai');
    await page.click('#demo-start');
    await waitFor(async () => ((await step()) === 'normal' ? true : undefined), 5000);
    expect(await page.isDisabled('#demo-start')).toBe(true);
  }, 45_000);

  it('fiber cut: down at the ISP layer with advice, kiosks answered STALE "data per <tanggal>", writes queued', async () => {
    await waitFor(async () => ((await step()) === 'fiber-cut' ? true : undefined), 15_000);
    await page.waitForFunction(
      `document.querySelector('#fault-layer')?.getAttribute('data-layer') === 'isp'`,
      undefined,
      { timeout: 10_000 },
    );
    expect(await page.textContent('#verdict-text')).toBe('Internet putus');
    expect(await page.textContent('#advice')).toContain('ONT');
    expect(await page.textContent('#demo-guide')).toContain('Fiber putus');
    const stale = await waitFor(async () => {
      const text = (await page.textContent('#demo-stale')) ?? '';
      return /data per \d{2}-\d{2}-\d{4} \d{2}:\d{2}:\d{2} WIB/.test(text) ? text : undefined;
    }, 12_000);
    expect(stale).toMatch(/^Jawaban dari cache saat terputus: kios adm-\d/);
    const v = await waitFor(async () => {
      const d = await demo();
      return d.writes.queued > 0 && d.scenario.step === 'fiber-cut' ? d : undefined;
    }, 10_000);
    expect(v.writes.queued_delivered).toBe(0);
    await shots(page, 'fiber-putus');
    // The regency sees the village go: its Will marks it offline on the wall.
    await wall.waitForSelector(`.tile[data-code="${GW}"][data-state="offline"]`, { timeout: 10_000 });
    await shots(wall, 'kabupaten-fiber-putus');
  }, 45_000);

  it('kiosk power: the fiber is back, each queued application delivered exactly once; the kiosk goes offline', async () => {
    await waitFor(async () => ((await step()) === 'kiosk-power' ? true : undefined), 20_000);
    const d = await waitFor(async () => {
      const x = await demo();
      return x.writes.queued > 0 && x.writes.queued_delivered === x.writes.queued ? x : undefined;
    }, 10_000);
    // Delivered once: no key reached the upstream twice, and every queued key reached it.
    expect(d.upstream.repeats).toBe(0);
    expect(d.upstream.applications).toBe(d.upstream.submissions);
    await page.waitForSelector('.tile[data-device="adm-3"][data-state="offline"]', { timeout: 12_000 });
    expect(await page.textContent('#demo-guide')).toContain('Anjungan Mandiri 3');
    await shots(page, 'kios-mati');
  }, 45_000);

  it('regency broker down: the verdict names the regency layer; the kiosks are not cut off', async () => {
    await waitFor(async () => ((await step()) === 'regency-down' ? true : undefined), 15_000);
    await page.waitForFunction(
      `document.querySelector('#fault-layer')?.getAttribute('data-layer') === 'regency'`,
      undefined,
      { timeout: 10_000 },
    );
    expect(await page.textContent('#advice')).toContain('kabupaten');
    // The internet is fine: applications go straight to the upstream (201), none is queued.
    const before = await demo();
    const after = await waitFor(async () => {
      const d = await demo();
      return d.writes.submitted >= before.writes.submitted + 2 ? d : undefined;
    }, 8000);
    expect(after.scenario.step).toBe('regency-down');
    expect(after.writes.queued).toBe(before.writes.queued);
    await shots(page, 'kabupaten-mati');
  }, 45_000);

  it('recovery: back up; the regency has the outage on the village page and in the availability report', async () => {
    await waitFor(async () => ((await step()) === 'recovery' ? true : undefined), 15_000);
    // Back: no fault layer any more ("terganggu" while the window still holds the lost rounds).
    await page.waitForFunction(
      `!document.querySelector('#fault-layer') &&
        ['Internet normal', 'Internet terganggu'].includes(document.querySelector('#verdict-text')?.textContent ?? '')`,
      undefined,
      { timeout: 12_000 },
    );
    await shots(page, 'pulih');
    const v = await demo();
    const cut = v.scenario.steps.find((s) => s.name === 'fiber-cut');
    expect(cut).toBeDefined();
    const month = wibDay(Date.parse(cut?.started ?? '')).slice(0, 7);
    const report = await waitFor(async () => {
      const r = (await (
        await fetch(`${regency}/api/v1/reports/availability?month=${month}`, { headers: { cookie: rcookie } })
      ).json()) as AvailabilityReport;
      const row = r.villages.find((x) => x.code === GW);
      return row && row.outages > 0 && (row.down_min.isp ?? 0) > 0 ? row : undefined;
    }, 15_000);
    expect(report.down_min.isp).toBeGreaterThan(0);
    await wall.waitForSelector(`.tile[data-code="${GW}"][data-state="online"]`, { timeout: 15_000 });
    await shots(wall, 'kabupaten-pulih');
    await wall.goto(`${regency}/#/desa/${GW}`);
    await wall.waitForSelector('#village-state');
    await wall.waitForFunction(
      `/isp/i.test(document.querySelector('#outages')?.textContent ?? '')`,
      undefined,
      {
        timeout: 10_000,
      },
    );
    await shots(wall, 'kabupaten-desa');
  }, 45_000);
});
