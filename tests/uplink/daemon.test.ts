import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { MAIN_JS, TestDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/net.js';

/** The real daemon on loopback: a cut, kill -9 during the outage, restart. */
describe('uplink in the real daemon under kill -9', () => {
  let server: Server | null = null;
  let port = 0;
  let daemon: TestDaemon | undefined;
  afterAll(async () => {
    server?.close();
    await daemon?.dispose();
  });

  const listen = () =>
    new Promise<void>((resolve) => {
      server = createServer((s) => s.destroy());
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as { port: number }).port;
        resolve();
      });
    });
  const status = () =>
    JSON.parse(
      execFileSync(process.execPath, [MAIN_JS, 'status', '--json', '--config', daemon!.configPath], {
        encoding: 'utf8',
      }),
    );
  const ledger = () => {
    const db = new Database(join(daemon!.dataDir, 'gateway.db'), { readonly: true });
    try {
      return db
        .prepare('SELECT fault_layer, start_wall, end_wall, interrupted FROM uplink_outages')
        .all() as Array<{
        fault_layer: string;
        start_wall: number;
        end_wall: number | null;
        interrupted: number;
      }>;
    } finally {
      db.close();
    }
  };

  it('keeps the outage visible after kill -9 and closes it as interrupted at restart', async () => {
    await listen();
    daemon = await TestDaemon.start({
      config: {
        uplink: {
          probes: [
            {
              name: 'router',
              layer: 'lan',
              type: 'tcp',
              host: '127.0.0.1',
              port,
              interval_s: 0.5,
              down_after: 2,
              up_after: 2,
            },
          ],
        },
      },
    });
    await daemon.waitForLog((l) => l.msg === 'link verdict changed' && l.verdict === 'up', 5000);
    await new Promise((r) => server!.close(r));
    server = null;
    await daemon.waitForLog((l) => l.msg === 'link verdict changed' && l.verdict === 'down', 5000);
    expect(ledger()).toMatchObject([{ fault_layer: 'lan', end_wall: null }]);

    await daemon.kill();
    // Not running: `status` reads what the daemon persisted — the link is down, the outage open.
    const s = status();
    expect(s.gateway.running).toBe(false);
    expect(s.link).toMatchObject({ verdict: 'down', fault_layer: 'lan', outage: { fault_layer: 'lan' } });

    await listen();
    await daemon.start();
    await daemon.waitForLog((l) => l.msg === 'closed outages left open by the previous run', 5000);
    const [row] = ledger();
    expect(row?.interrupted).toBe(1);
    // Ended at the last moment the killed run is known to have watched, not at its start.
    expect(row?.end_wall).toBeGreaterThan(row!.start_wall);
    await waitFor(() => status().link.verdict === 'up', 8000);
  }, 30_000);
});
