import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestBroker } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';
import {
  DIALECTS,
  RegencyDaemon,
  regencyConfig,
  TestStore,
  VillagePublisher,
  villageCodes,
} from './helpers.js';

const SECRET = 'hook-token-7f3a9c1e5b2d4f60';

interface Post {
  auth: string | undefined;
  body: {
    text: string;
    alerts: Array<{
      id: string;
      kind: string;
      state: string;
      fault_layer: string | null;
      village: { code: string };
      text: string;
    }>;
  };
}

/** A webhook receiver on port 0 that can be down (connection refused) and up again on the same port. */
class Receiver {
  readonly posts: Post[] = [];
  port = 0;
  private server: Server | undefined;

  async up(): Promise<void> {
    const server = createServer((req: IncomingMessage, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => {
        raw += c.toString();
      });
      req.on('end', () => {
        this.posts.push({ auth: req.headers.authorization, body: JSON.parse(raw) as Post['body'] });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async down(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook/${SECRET}-in-path`;
  }

  alerts(gw: string, kind: string) {
    return this.posts.flatMap((p) => p.body.alerts).filter((a) => a.village.code === gw && a.kind === kind);
  }
}

describe.each(DIALECTS)('alert webhooks with a durable queue (%s)', (dialect) => {
  const tmp = tempDir('kgw-regency-alerts-');
  const broker = new TestBroker();
  const store = new TestStore(dialect, tmp.path);
  const receiver = new Receiver();
  const pub = new VillagePublisher();
  let daemon: RegencyDaemon;
  let codes: string[];

  const link = (gw: string, verdict: 'up' | 'down') =>
    pub.raw(
      `kampung/v1/${gw}/link`,
      JSON.stringify({
        verdict,
        fault_layer: verdict === 'down' ? 'isp' : null,
        since: new Date().toISOString(),
        layers: {},
        outage: null,
      }),
    );
  const logged = (msg: string) => daemon.logs.filter((l) => l.msg === msg);

  beforeAll(async () => {
    await broker.start();
    await store.create();
    await receiver.up();
    await receiver.down();
    const secretFile = `${tmp.path}/hook.secret`;
    writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
    codes = await villageCodes(2);
    daemon = new RegencyDaemon(
      `${tmp.path}/regency`,
      regencyConfig(store, broker.url, {
        alerts: {
          webhooks: [{ url: receiver.url, min_down_s: 1, secret_file: secretFile }],
          recover_s: 1,
          check_s: 0.2,
          retry: { initial_s: 0.2, max_s: 0.5, timeout_s: 2 },
        },
      }),
    );
    await daemon.start();
    await pub.connect(broker.url);
  });
  afterAll(async () => {
    await pub.close();
    await daemon?.kill();
    await receiver.down();
    await broker.dispose();
    await store.drop();
    tmp.cleanup();
  });

  it('receiver down, then up: the down alert arrives once, then one up alert per episode', async () => {
    const gw = codes[0] as string;
    await link(gw, 'down');
    await waitFor(() => logged('alert queued').length >= 1, 15_000);
    // Refused at least twice while the receiver is down (retry with backoff), nothing lost.
    await waitFor(() => logged('alert delivery failed; will retry').length >= 2, 15_000);
    await receiver.up();
    await waitFor(() => receiver.alerts(gw, 'down').length === 1, 15_000);
    const down = receiver.alerts(gw, 'down')[0];
    expect(down).toMatchObject({ state: 'down', fault_layer: 'isp' });
    expect(down?.text).toContain('terputus');
    expect(receiver.posts[0]?.auth).toBe(`Bearer ${SECRET}`);
    // A flap shorter than recover_s stays in the episode: no second down, no up yet.
    await link(gw, 'up');
    await link(gw, 'down');
    await link(gw, 'up');
    await waitFor(() => receiver.alerts(gw, 'up').length === 1, 15_000);
    expect(receiver.alerts(gw, 'down')).toHaveLength(1);
    expect(receiver.alerts(gw, 'up')[0]?.text).toContain('normal kembali');
    // Neither the token nor the URL path reaches the log.
    const all = JSON.stringify(daemon.logs) + daemon.stderr;
    expect(all).not.toContain(SECRET);
    expect(all).toContain(`127.0.0.1:${receiver.port}`);
    const metrics = await daemon.http('/metrics', { anonymous: true });
    expect(metrics.text).toMatch(/kampung_regency_alerts\{state="sent"\} 2/);
    // The page's list: both alerts sent, the hook named by position and host, never its URL.
    expect((await daemon.http('/api/v1/alerts', { anonymous: true })).status).toBe(401);
    await daemon.login();
    const list = await daemon.http('/api/v1/alerts?limit=10');
    expect(list.status).toBe(200);
    const view = JSON.parse(list.text) as {
      hooks: number;
      counts: Record<string, number>;
      alerts: Array<{
        kind: string;
        state: string;
        hook: string;
        attempts: number;
        village: { code: string };
      }>;
    };
    expect(view.counts).toMatchObject({ sent: 2, failed: 0 });
    const mine = view.alerts.filter((a) => a.village.code === gw);
    expect(mine.map((a) => [a.kind, a.state, a.hook]).sort()).toEqual([
      ['down', 'sent', `#1 127.0.0.1:${receiver.port}`],
      ['up', 'sent', `#1 127.0.0.1:${receiver.port}`],
    ]);
    expect(mine.find((a) => a.kind === 'down')?.attempts).toBeGreaterThanOrEqual(2);
    expect(list.text).not.toContain(SECRET);
    expect(list.text).not.toContain('/hook/');
    for (const bad of ['0', '201', 'x', '1.5'])
      expect((await daemon.http(`/api/v1/alerts?limit=${bad}`)).status).toBe(400);
  });

  it('kill -9 with an alert queued: delivered once after the restart, with the same id', async () => {
    const gw = codes[1] as string;
    await receiver.down();
    const queuedBefore = logged('alert queued').length;
    await link(gw, 'down');
    await waitFor(() => logged('alert queued').length > queuedBefore, 15_000);
    await waitFor(() => logged('alert delivery failed; will retry').length >= 1, 15_000);
    await daemon.kill('SIGKILL');
    // The village is back before the collector is: only the stored queue still knows that a
    // down alert is owed (and so that an up alert must follow it).
    await link(gw, 'up');
    await receiver.up();
    await daemon.start();
    await waitFor(() => receiver.alerts(gw, 'up').length === 1, 15_000);
    expect(receiver.alerts(gw, 'down')).toHaveLength(1);
    const order = receiver.posts.flatMap((p) => p.body.alerts).filter((a) => a.village.code === gw);
    expect(order.map((a) => a.kind)).toEqual(['down', 'up']);
    expect(logged('alert queued').filter((l) => l.kind === 'down')).toHaveLength(0);
    expect(new Set(receiver.posts.flatMap((p) => p.body.alerts.map((a) => a.id))).size).toBe(
      receiver.posts.flatMap((p) => p.body.alerts).length,
    );
  });
});
