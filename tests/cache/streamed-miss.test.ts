import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { AUTH, startCache, testConfig } from './harness.js';

type Ctx = Awaited<ReturnType<typeof startCache>>;
const MiB = 1024 * 1024;
const CHUNK = 64 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A real upstream that writes its body in 64 KiB chunks and, when told to, stops after `holdAt`
 * bytes until the test releases it (or destroys the connection there).
 */
class SlowUpstream {
  body = Buffer.alloc(0);
  holdAt: number | undefined;
  cutAtHold = false;
  contentLength: number | undefined;
  headers: Record<string, string> = { 'cache-control': 'max-age=60', 'content-type': 'application/pdf' };
  attempts = 0;
  held = false;
  private release: (() => void) | undefined;
  private server: Server | undefined;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.release?.();
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  /** Lets a held body continue to the end. */
  resume(): void {
    this.release?.();
  }

  private async handle(_req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.attempts += 1;
    const headers: Record<string, string | number> = { ...this.headers, date: new Date().toUTCString() };
    if (this.contentLength !== undefined) headers['content-length'] = this.contentLength;
    res.writeHead(200, headers);
    const body = this.body;
    const holdAt = this.holdAt;
    for (let off = 0; off < body.length; off += CHUNK) {
      if (holdAt !== undefined && off === holdAt) {
        this.held = true;
        await new Promise<void>((r) => {
          this.release = r;
        });
        if (this.cutAtHold) {
          res.socket?.destroy();
          return;
        }
      }
      if (!res.write(body.subarray(off, off + CHUNK)))
        await new Promise<void>((r) => res.once('drain', () => r()));
    }
    res.end();
  }
}

describe('/svc large MISS streamed to a file', () => {
  let dir: ReturnType<typeof tempDir>;
  let up: SlowUpstream;
  let gw: Ctx | undefined;
  let cacheDir: string;

  beforeEach(async () => {
    dir = tempDir('kgw-cstream-');
    cacheDir = join(dir.path, 'data', 'cache');
    up = new SlowUpstream();
    await up.start();
  });

  afterEach(async () => {
    await gw?.stop();
    gw = undefined;
    await up.stop();
    dir.cleanup();
  });

  const start = async (cache: Record<string, unknown> = {}) => {
    gw = await startCache(
      testConfig(dir.path, {
        max_mb: 64,
        ...cache,
        upstreams: [{ name: 'layanan', base_url: `http://127.0.0.1:${up.port}/api`, timeout_ms: 1000 }],
      }),
    );
    return gw;
  };
  const get = (url: string) => gw!.app.inject({ method: 'GET', url, headers: AUTH });
  const tmpFiles = () => readdirSync(cacheDir).filter((f) => f.endsWith('.tmp'));
  const tmpBytes = () => tmpFiles().reduce((n, f) => n + statSync(join(cacheDir, f)).size, 0);
  /** Open descriptors of this (test) process on files in data_dir/cache: a leak would keep them. */
  const openCacheFds = () =>
    readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`).startsWith(cacheDir);
      } catch {
        return false;
      }
    }).length;
  const until = async (what: string, ok: () => boolean) => {
    for (let i = 0; i < 200 && !ok(); i++) await sleep(10);
    if (!ok()) throw new Error(`timed out waiting for: ${what}`);
  };

  it('writes a 3 MiB body to disk while it arrives, shares one fetch, then serves identical bytes as a HIT', async () => {
    await start();
    up.body = randomBytes(3 * MiB);
    up.holdAt = 2 * MiB;
    const a = get('/svc/layanan/formulir.pdf');
    const b = get('/svc/layanan/formulir.pdf');
    await until('upstream holds at 2 MiB', () => up.held);
    // The upstream has sent 2 of 3 MiB and is waiting: the temp file in data_dir/cache holds them.
    await until('temp file holds the bytes sent so far', () => tmpBytes() >= 2 * MiB - CHUNK);
    expect(tmpFiles()).toHaveLength(1);
    expect(openCacheFds()).toBe(1);
    up.resume();
    const [ra, rb] = await Promise.all([a, b]);
    for (const r of [ra, rb]) {
      expect(r.statusCode).toBe(200);
      expect(r.headers['x-cache']).toBe('MISS');
      expect(r.rawPayload.equals(up.body)).toBe(true);
    }
    expect(up.attempts).toBe(1);
    await until('both streams and the temp handle closed', () => openCacheFds() === 0);
    const sha = createHash('sha256').update(up.body).digest('hex');
    expect(readdirSync(cacheDir)).toEqual([sha]);
    const hit = await get('/svc/layanan/formulir.pdf');
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(hit.rawPayload.equals(up.body)).toBe(true);
    expect(up.attempts).toBe(1);
  });

  it('refuses a body over the cap with 502 while streaming and leaves no file behind', async () => {
    // max_mb 1: one answer may be at most 1 MiB.
    await start({ max_mb: 1 });
    up.body = randomBytes(2 * MiB);
    up.holdAt = 512 * 1024;
    const r = get('/svc/layanan/besar.pdf');
    await until('upstream holds at 512 KiB', () => up.held);
    await until('temp file written', () => tmpBytes() >= 256 * 1024);
    up.resume();
    const res = await r;
    expect(res.statusCode).toBe(502);
    expect(res.json().error).toBe('GW_ERR_UPSTREAM_BAD_RESPONSE');
    expect(readdirSync(cacheDir)).toEqual([]);
    expect(gw!.cache.live().entries).toBe(0);
  });

  it('an upstream connection cut mid-body: error answer, nothing stored, no temp file, next request a MISS', async () => {
    await start();
    up.body = randomBytes(3 * MiB);
    up.contentLength = up.body.length;
    up.holdAt = MiB;
    up.cutAtHold = true;
    const r = get('/svc/layanan/putus.pdf');
    await until('upstream holds at 1 MiB', () => up.held);
    await until('temp file written', () => tmpBytes() >= MiB - CHUNK);
    up.resume();
    const res = await r;
    expect(res.statusCode).toBe(504);
    expect(res.json().error).toBe('GW_ERR_UPSTREAM_UNAVAILABLE');
    expect(readdirSync(cacheDir)).toEqual([]);
    expect(gw!.cache.live().entries).toBe(0);

    up.holdAt = undefined;
    up.cutAtHold = false;
    const again = await get('/svc/layanan/putus.pdf');
    expect(again.statusCode).toBe(200);
    expect(again.headers['x-cache']).toBe('MISS');
    expect(again.rawPayload.equals(up.body)).toBe(true);
    expect(up.attempts).toBe(2);
  });

  it('a HEAD MISS on a large body answers headers only, stores the body, and the next GET is a HIT', async () => {
    await start();
    up.body = randomBytes(512 * 1024);
    const head = await gw!.app.inject({ method: 'HEAD', url: '/svc/layanan/kop.pdf', headers: AUTH });
    expect(head.statusCode).toBe(200);
    expect(head.headers['x-cache']).toBe('MISS');
    expect(head.headers['content-length']).toBe(String(up.body.length));
    expect(head.rawPayload.length).toBe(0);
    const hit = await get('/svc/layanan/kop.pdf');
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(hit.rawPayload.equals(up.body)).toBe(true);
    expect(up.attempts).toBe(1);
    expect(tmpFiles()).toEqual([]);
    await until('no body file left open', () => openCacheFds() === 0);
  });

  it('the same large body fetched again for an expired entry keeps the file both versions share', async () => {
    await start();
    up.body = randomBytes(300 * 1024);
    up.headers = { 'cache-control': 'max-age=0' };
    expect((await get('/svc/layanan/sama.pdf')).headers['x-cache']).toBe('MISS');
    up.headers = { 'cache-control': 'max-age=60' };
    const second = await get('/svc/layanan/sama.pdf');
    expect(second.headers['x-cache']).toBe('MISS');
    expect(readdirSync(cacheDir)).toEqual([createHash('sha256').update(up.body).digest('hex')]);
    const hit = await get('/svc/layanan/sama.pdf');
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(hit.rawPayload.equals(up.body)).toBe(true);
    expect(up.attempts).toBe(2);
  });

  it('temp files and orphans left by a crash are swept at start, entries kept', async () => {
    await start();
    up.body = randomBytes(200 * 1024);
    expect((await get('/svc/layanan/a.pdf')).headers['x-cache']).toBe('MISS');
    await gw!.stop();
    gw = undefined;
    // What a kill -9 mid-download (and between rename and insert) leaves behind.
    writeFileSync(join(cacheDir, '.0123456789abcdef.tmp'), randomBytes(100 * 1024));
    writeFileSync(join(cacheDir, 'f'.repeat(64)), randomBytes(100 * 1024));
    await start();
    expect(tmpFiles()).toEqual([]);
    expect(existsSync(join(cacheDir, 'f'.repeat(64)))).toBe(false);
    const hit = await get('/svc/layanan/a.pdf');
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(hit.rawPayload.equals(up.body)).toBe(true);
  });
});
