import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { KioskSim } from '../../src/sim/kiosk-sim.js';
import type { DeviceStatus } from '../../src/status/types.js';
import { MAIN_JS, TestDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';

const run = promisify(execFile);
const tmp = tempDir('kgw-devstatus-');
afterAll(() => tmp.cleanup());

async function status(configPath: string): Promise<{ text: string; devices: DeviceStatus[] }> {
  // JSON first: the states this test waits for only move forward, so the later text agrees.
  const json = (await run(process.execPath, [MAIN_JS, 'status', '--config', configPath, '--json'])).stdout;
  const text = (await run(process.execPath, [MAIN_JS, 'status', '--config', configPath])).stdout;
  return { text, devices: (JSON.parse(json) as { devices: DeviceStatus[] }).devices };
}

it('the real daemon: kiosk states reach `kampung-gw status` with state, reason and last heartbeat', async () => {
  const tokenFile = join(tmp.path, 'adm-1.token');
  writeFileSync(tokenFile, 'token-adm-1-status\n');
  const printer = new KioskSim({
    gateway: 'http://127.0.0.1:1',
    deviceId: 'printer-1',
    token: 'x',
    heartbeatMs: 0,
  });
  await printer.startHealth();
  const daemon = new TestDaemon({
    dir: tmp.path,
    config: {
      devices: [
        { id: 'adm-1', name: 'Anjungan 1', kind: 'kiosk', token_file: tokenFile, heartbeat_timeout_s: 30 },
        {
          id: 'printer-1',
          name: 'Printer',
          kind: 'printer',
          checks: [{ type: 'http', url: printer.healthUrl, interval_s: 0.5 }],
          down_after: 2,
        },
        { id: 'cctv-1', name: 'CCTV', kind: 'camera' },
      ],
    },
  });
  try {
    await daemon.start();
    const kiosk = new KioskSim({
      gateway: daemon.url,
      deviceId: 'adm-1',
      token: 'token-adm-1-status',
      heartbeatMs: 0,
      healthPort: null,
    });
    kiosk.telemetry.paper = 'low';
    expect(await kiosk.heartbeat()).toBe(204);
    await printer.stopHealth();
    // Offline is persisted at once; last_heartbeat rides with every state change.
    const running = await waitFor(
      async () => {
        const s = await status(daemon.configPath);
        const p = s.devices.find((d) => d.id === 'printer-1');
        return p?.state === 'offline' ? s : undefined;
      },
      8000,
      200,
    );
    expect(running.devices.find((d) => d.id === 'adm-1')).toMatchObject({
      state: 'degraded',
      reason: 'paper low',
    });
    expect(running.devices.find((d) => d.id === 'adm-1')?.last_heartbeat).toMatch(/^\d{4}-/);
    expect(running.devices.find((d) => d.id === 'printer-1')?.reason).toMatch(/check http failed/);
    expect(running.devices.find((d) => d.id === 'cctv-1')?.state).toBe('unknown');
    expect(running.text).toMatch(/adm-1\s+degraded\s+paper low heartbeat \d{4}-\d\d-\d\d [\d:]+ WIB/);
    expect(running.text).toMatch(/printer-1\s+offline\s+check http failed/);
  } finally {
    await daemon.stop('SIGTERM');
    await printer.stopHealth();
  }
  // Stopped daemon: the data dir still answers.
  const after = await status(daemon.configPath);
  expect(after.devices.find((d) => d.id === 'adm-1')).toMatchObject({
    state: 'degraded',
    reason: 'paper low',
  });
});
