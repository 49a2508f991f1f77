import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { TempBody } from '../../src/cache/temp-body.js';
import { UpstreamClient } from '../../src/cache/upstream-client.js';
import { Scheduler } from '../../src/core/scheduler.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { tempDir } from '../helpers/tmp.js';

describe('large upstream bodies: asynchronous temp-file writes with backpressure', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('a slow sink pauses the upstream response instead of piling its chunks up in memory', async () => {
    const size = 8 * 1024 * 1024;
    const piece = Buffer.alloc(64 * 1024, 7);
    // The origin writes its body piece by piece, honouring its own socket's backpressure, so
    // how far it got says how much the client took off the connection.
    const origin = { sent: 0, waiting: false, finished: false };
    const server = createServer((req, res) => {
      if (req.url === '/barrier') return void res.end('ok');
      res.writeHead(200, { 'content-length': String(size) });
      const more = () => {
        while (origin.sent < size) {
          origin.sent += piece.length;
          if (!res.write(piece)) {
            origin.waiting = true;
            res.once('drain', () => {
              origin.waiting = false;
              more();
            });
            return;
          }
        }
        origin.finished = true;
        res.end();
      };
      more();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const scheduler = new Scheduler({ clock: new FakeClock(), log: pino({ level: 'silent' }) });
    cleanups.push(() => scheduler.stop());
    const client = new UpstreamClient({ scheduler, maxBodyBytes: 16 * 1024 * 1024 });
    cleanups.push(() => client.destroy());
    let received = 0;
    let held = true;
    /** Sink writes after the first one's synchronous burst, while it was still unwritten. */
    let lateWrites = 0;
    let burstOver = false;
    let firstWrite: () => void = () => undefined;
    const wrote = new Promise<void>((r) => {
      firstWrite = r;
    });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const done = client.request({
      url: new URL(`${url}/big`),
      method: 'GET',
      headers: {},
      timeoutMs: 5000,
      spill: {
        above: 64 * 1024,
        open: () => ({
          write: (c) => {
            received += c.length;
            if (burstOver && held) lateWrites++;
            if (!burstOver) {
              firstWrite();
              setImmediate(() => {
                burstOver = true;
              });
            }
            return gate;
          },
          abort: () => undefined,
        }),
      },
    });
    await wrote;
    // Proof that the connection stalled rather than "nothing happened for a while": the origin
    // waits for its socket to drain and has sent nothing more across two round trips on
    // another connection, each passing through the event loop's I/O phase where a reading
    // client would have taken more. A client that kept reading lets the origin finish instead.
    let last = -1;
    for (let stalled = 0; stalled < 2 && !origin.finished; ) {
      await (await fetch(`${url}/barrier`)).text();
      stalled = origin.waiting && origin.sent === last ? stalled + 1 : 0;
      last = origin.sent;
    }
    expect(origin.finished).toBe(false);
    expect(lateWrites).toBe(0);
    // Held at the first chunk that went to the sink: far less than the 8 MiB on offer.
    expect(received).toBeLessThan(1024 * 1024);
    held = false;
    release();
    const res = await done;
    expect(res.spilled).toBe(true);
    expect(received).toBe(size);
  });

  it('TempBody writes in order without blocking, hashes, and keeps the bytes', async () => {
    const dir = tempDir('kgw-ctemp-');
    cleanups.push(() => dir.cleanup());
    const t = new TempBody(dir.path);
    const parts = [Buffer.from('abc'), Buffer.alloc(100_000, 1), Buffer.from('xyz')];
    const writes = parts.map((p) => t.write(p));
    expect(writes.every((w) => w instanceof Promise)).toBe(true);
    const out = await t.finish();
    expect(out.kind).toBe('file');
    expect(readFileSync(t.path).equals(Buffer.concat(parts))).toBe(true);
    expect((await t.readAll()).equals(Buffer.concat(parts))).toBe(true);
    t.close();
  });
});
