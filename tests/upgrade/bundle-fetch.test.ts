import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256File } from '../../src/upgrade/bundle-verify.js';
import { upgradeCommand } from '../../src/upgrade/upgrade-command.js';
import { waitFor } from '../helpers/net.js';
import { memoryLogger } from '../helpers/test-log.js';
import { tempDir } from '../helpers/tmp.js';
import { buildBundle, testKey } from './fake-bundle.js';

// `upgrade { url, sha256 }`: the daemon downloads the bundle from the regency's server over a
// link that keeps cutting, resuming with Range, and asks for the upgrade once the digest matches.
const tmp = tempDir('kgw-fetch-');
let bundle: Buffer;
let name: string;
let sum: string;
let server: Server;
let port: number;
/** How the server behaves: cut the first `cuts` answers after `cutAfter` bytes; honour Range or not. */
const mode = { cuts: 0, cutAfter: 0, range: true };
const seen: Array<string | undefined> = [];

beforeAll(async () => {
  mkdirSync(join(tmp.path, 'b'));
  const file = buildBundle(
    join(tmp.path, 'b'),
    { version: '2.0.0', schema: 2, healthy: true },
    testKey().privateKey,
  );
  bundle = readFileSync(file);
  name = file.split('/').at(-1) ?? '';
  sum = await sha256File(file);
  server = createServer((req, res) => {
    seen.push(req.headers.range);
    if (req.url !== `/releases/${name}`) {
      res.writeHead(404).end();
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const from = mode.range && m ? Number(m[1]) : 0;
    const body = bundle.subarray(from);
    res.writeHead(from > 0 ? 206 : 200, { 'content-length': body.length });
    if (mode.cuts > 0) {
      mode.cuts--;
      res.write(body.subarray(0, mode.cutAfter), () => res.destroy());
      return;
    }
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  tmp.cleanup();
});

function command(dataDir: string) {
  const { log, lines } = memoryLogger();
  const c = upgradeCommand({
    dataDir,
    now: () => 1_700_000_000_000,
    log,
    allowedHost: '127.0.0.1',
    backoffMs: () => 10,
  });
  const run = (args: Record<string, unknown>) =>
    c.operation.run({
      args,
      signal: new AbortController().signal,
      progress: () => undefined,
      actor: 'regency',
    }) as Promise<Record<string, unknown>>;
  return { run, lines, stop: () => c.service.stop() };
}

const url = () => `http://127.0.0.1:${port}/releases/${name}`;

describe('upgrade { url, sha256 }', () => {
  it('resumes a download cut three times with Range, then asks for the upgrade', async () => {
    const dir = join(tmp.path, 'd1');
    const cut = Math.floor(bundle.length / 5);
    Object.assign(mode, { cuts: 3, cutAfter: cut, range: true });
    seen.length = 0;
    const c = command(dir);
    expect(await c.run({ url: url(), sha256: sum })).toMatchObject({ accepted: true, downloading: name });
    await waitFor(() => existsSync(join(dir, 'upgrades', 'request.json')), 10_000);
    expect(seen).toEqual([undefined, `bytes=${cut}-`, `bytes=${2 * cut}-`, `bytes=${3 * cut}-`]);
    expect(readFileSync(join(dir, 'upgrades', name)).equals(bundle)).toBe(true);
    expect(existsSync(join(dir, 'upgrades', `${name}.part`))).toBe(false);
    expect(JSON.parse(readFileSync(join(dir, 'upgrades', 'request.json'), 'utf8'))).toMatchObject({
      bundle: name,
      sha256: sum,
    });
    expect(await c.run({})).toMatchObject({
      pending: true,
      download: { state: 'done', bytes: bundle.length, total: bundle.length, attempts: 4 },
    });
  });

  it('starts over when the server ignores Range', async () => {
    const dir = join(tmp.path, 'd2');
    Object.assign(mode, { cuts: 2, cutAfter: Math.floor(bundle.length / 2), range: false });
    const c = command(dir);
    await c.run({ url: url(), sha256: sum });
    await waitFor(() => existsSync(join(dir, 'upgrades', 'request.json')), 10_000);
    expect(readFileSync(join(dir, 'upgrades', name)).equals(bundle)).toBe(true);
  });

  it('drops a download whose sha256 is wrong and says why', async () => {
    const dir = join(tmp.path, 'd3');
    Object.assign(mode, { cuts: 0, range: true });
    const c = command(dir);
    await c.run({ url: url(), sha256: 'b'.repeat(64) });
    await waitFor(() => existsSync(join(dir, 'upgrades', 'result.json')), 10_000);
    expect(JSON.parse(readFileSync(join(dir, 'upgrades', 'result.json'), 'utf8'))).toMatchObject({
      ok: false,
      outcome: 'download-failed',
      reason: expect.stringMatching(`sha256 is ${sum}`),
    });
    expect(existsSync(join(dir, 'upgrades', name))).toBe(false);
    expect(existsSync(join(dir, 'upgrades', `${name}.part`))).toBe(false);
    expect(existsSync(join(dir, 'upgrades', 'request.json'))).toBe(false);
    expect((await c.run({})).download).toMatchObject({ state: 'failed' });
  });

  it('gives up after its attempts on a server that answers 404', async () => {
    const dir = join(tmp.path, 'd4');
    const c = command(dir);
    await c.run({ url: `http://127.0.0.1:${port}/other/${name}`, sha256: sum });
    await waitFor(() => existsSync(join(dir, 'upgrades', 'result.json')), 10_000);
    expect(JSON.parse(readFileSync(join(dir, 'upgrades', 'result.json'), 'utf8')).reason).toMatch(
      /after 8 attempts: HTTP 404/,
    );
  });

  it('refuses URLs off the regency server, with credentials, or not naming a bundle', async () => {
    const c = command(join(tmp.path, 'd5'));
    for (const u of [
      `http://localhost:${port}/releases/${name}`,
      `http://10.0.0.1/releases/${name}`,
      `http://user:pw@127.0.0.1:${port}/releases/${name}`,
      `http://127.0.0.1:${port}/releases/evil.sh`,
      `file:///etc/passwd`,
    ])
      await expect(c.run({ url: u, sha256: sum }), u).rejects.toMatchObject({ code: 'bad_args' });
    await expect(c.run({ url: url(), bundle: name, sha256: sum })).rejects.toMatchObject({
      code: 'bad_args',
    });
  });
});
