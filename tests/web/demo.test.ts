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

  it('starts broker, kiosks and daemon, prints URL and setup code, stops cleanly on Ctrl-C', async () => {
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

    // The embedded broker takes MQTT 3.1.1 and the regency view shows what arrived.
    const client = await mqtt.connectAsync(broker, { protocolVersion: 4, reconnectPeriod: 0 });
    await client.publishAsync('kampung/v1/3510170012/health', JSON.stringify({ v: 1 }), { qos: 1 });
    await client.endAsync();
    const seen = await waitFor(async () => {
      const v = (await (await fetch(view)).json()) as { received: Array<{ topic: string; count: number }> };
      return v.received.find((r) => r.topic === 'kampung/v1/3510170012/health');
    }, 5000);
    expect(seen.count).toBeGreaterThanOrEqual(1);

    proc.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out).toMatch(/regency: \d+ messages/);
    expect(existsSync(dataDir)).toBe(false);
  });
});
