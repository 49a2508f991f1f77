import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAIN_JS } from '../helpers/daemon.js';
import { waitFor } from '../helpers/net.js';
import { ensurePageBuilt } from './ensure-page.js';

// The page must exist even if the build step only ran tsc.
beforeAll(() => ensurePageBuilt());

describe('kampung-gw demo', () => {
  let proc: ChildProcess | undefined;
  afterAll(() => {
    if (proc && proc.exitCode === null) proc.kill('SIGKILL');
  });

  it('starts the world, the regency and the daemon, prints URLs and codes, stops cleanly on Ctrl-C', async () => {
    proc = spawn(process.execPath, [MAIN_JS, 'demo'], {
      env: { ...process.env, KAMPUNG_GW_DEMO_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => proc?.once('exit', (code) => resolve(code)));
    await waitFor(() => out.includes('Ctrl-C'), 15_000);
    const grab = (re: RegExp) => {
      const m = re.exec(out);
      if (!m?.[1]) throw new Error(`not in demo output: ${re}\n${out}`);
      return m[1];
    };
    const page = grab(/technician page: (http:\/\/127\.0\.0\.1:\d+)\//);
    const code = grab(/setup code:\s+([2-9A-Z]{5}-[2-9A-Z]{5})/);
    const broker = grab(/MQTT broker \(kabupaten\/regency\):\s+(mqtt:\/\/127\.0\.0\.1:\d+)/);
    const view = grab(/regency view: (http:\/\/127\.0\.0\.1:\d+)\//);
    const dataDir = grab(/Data \(sementara \/ temporary\):\s+(\S+)/);
    expect(existsSync(dataDir)).toBe(true);

    const html = await fetch(page);
    expect(html.status).toBe(200);
    expect(await html.text()).toContain('<div id="app">');
    const setup = await fetch(`${page}/api/v1/setup`, {
      method: 'POST',
      headers: { origin: page, 'content-type': 'application/json' },
      body: JSON.stringify({ code, name: 'pemula', password: 'coba-coba-demo' }),
    });
    expect(setup.status).toBe(201);
    const cookie = setup.headers.get('set-cookie')!.split(';')[0]!;
    const status = (await (await fetch(`${page}/api/v1/status`, { headers: { cookie } })).json()) as {
      devices: Array<{ id: string }>;
    };
    expect(status.devices.map((d) => d.id)).toEqual(['adm-1', 'adm-2', 'adm-3', 'printer-1']);
    // The simulated kiosks push heartbeats and usage through the real push API.
    await waitFor(async () => {
      const s = (await (await fetch(`${page}/api/v1/status`, { headers: { cookie } })).json()) as {
        devices: Array<{ id: string; state: string }>;
      };
      return s.devices.filter((d) => d.id.startsWith('adm-')).every((d) => d.state === 'online');
    }, 15_000);

    // The cache is in the story: the kiosks read through /svc, so entries appear.
    await waitFor(async () => {
      const s = (await (await fetch(`${page}/api/v1/status`, { headers: { cookie } })).json()) as {
        cache: { entries: number; upstreams: Record<string, { hits: number }> };
      };
      return s.cache.entries > 0 && (s.cache.upstreams.layanan?.hits ?? 0) > 0;
    }, 20_000);

    // The embedded broker takes MQTT 3.1.1; the regency view is the real fleet page, whose
    // collector stores what arrives (here a village of our own next to the demo's).
    const client = await mqtt.connectAsync(broker, { protocolVersion: 4, reconnectPeriod: 0 });
    await client.publishAsync('kampung/v1/3510170013/status', JSON.stringify({ online: true }), {
      qos: 1,
      retain: true,
    });
    await client.endAsync();
    expect((await fetch(`${view}/healthz`)).status).toBe(200);
    expect(await (await fetch(view)).text()).toContain('<div id="app">');
    const regencyCode = grab(/regency code:\s+([2-9A-Z]{5}-[2-9A-Z]{5})/);
    const rs = await fetch(`${view}/api/v1/setup`, {
      method: 'POST',
      headers: { origin: view, 'content-type': 'application/json' },
      body: JSON.stringify({ code: regencyCode, name: 'kabupaten', password: 'coba-coba-demo' }),
    });
    expect(rs.status).toBe(201);
    const rcookie = rs.headers.get('set-cookie')!.split(';')[0]!;
    const fleet = await waitFor(async () => {
      const f = (await (
        await fetch(`${view}/api/v1/fleet`, { headers: { cookie: rcookie } })
      ).json()) as Array<{
        code: string;
        state: string;
      }>;
      const own = f.find((v) => v.code === '3510170012');
      return own?.state === 'online' ? f : undefined;
    }, 15_000);
    expect(
      (
        await waitFor(async () => {
          const f = (await (
            await fetch(`${view}/api/v1/fleet`, { headers: { cookie: rcookie } })
          ).json()) as Array<{
            code: string;
            state: string;
          }>;
          return f.find((v) => v.code === '3510170013' && v.state !== 'unknown');
        }, 5000)
      ).state,
    ).toBe('online');
    expect(fleet.length).toBeGreaterThanOrEqual(203);

    proc.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('refuses an unknown scenario or speed as a usage error, before starting anything', async () => {
    for (const args of [['--scenario', 'banjir'], ['--speed', '0'], ['--bogus']]) {
      const p = spawn(process.execPath, [MAIN_JS, 'demo', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      p.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
      });
      p.stderr?.on('data', (d: Buffer) => {
        err += d.toString();
      });
      const code = await new Promise<number | null>((resolve) => p.once('exit', (c) => resolve(c)));
      expect([args, code]).toEqual([args, 2]);
      expect(out).not.toContain('kampung-gw demo berjalan');
      expect(err.length).toBeGreaterThan(0);
    }
  });
});
