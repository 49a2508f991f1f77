import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TestDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';

interface DgramServer {
  bind(path: string): void;
  close(): void;
  on(event: 'message', fn: (msg: Buffer) => void): void;
}
const unix = createRequire(import.meta.url)('unix-dgram') as { createSocket(t: string): DgramServer };

const tmp = tempDir('kgw-notify-');
afterAll(() => tmp.cleanup());

describe('systemd notify protocol', () => {
  it('sends READY=1 after start, WATCHDOG=1 periodically, STOPPING=1 on SIGTERM', async () => {
    const path = join(tmp.path, 'notify.sock');
    const messages: string[] = [];
    const server = unix.createSocket('unix_dgram');
    server.on('message', (m) => messages.push(m.toString()));
    server.bind(path);
    const d = new TestDaemon({ env: { NOTIFY_SOCKET: path, WATCHDOG_USEC: '400000' } });
    try {
      await d.start();
      await waitFor(() => messages.some((m) => m.startsWith('READY=1')), 5000);
      await waitFor(() => messages.filter((m) => m === 'WATCHDOG=1').length >= 3, 5000);
      const r = await d.stop('SIGTERM');
      expect(r.code).toBe(0);
      await waitFor(() => messages.includes('STOPPING=1'), 2000);
      const ready = messages.findIndex((m) => m.startsWith('READY=1'));
      expect(ready).toBeGreaterThanOrEqual(0);
      expect(messages.indexOf('STOPPING=1')).toBeGreaterThan(ready);
    } finally {
      await d.dispose();
      server.close();
    }
  });

  it('runs normally without NOTIFY_SOCKET', async () => {
    const d = new TestDaemon({ env: { NOTIFY_SOCKET: '', WATCHDOG_USEC: '' } });
    try {
      await d.start();
      expect((await d.stop()).code).toBe(0);
    } finally {
      await d.dispose();
    }
  });
});
