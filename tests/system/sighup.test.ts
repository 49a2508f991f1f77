import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TestUpstream } from '../cache/test-upstream.js';
import { TestDaemon } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

const KIOSK_OLD = 'sighup-kiosk-token-old-0123456789abcdef';
const KIOSK_NEW = 'sighup-kiosk-token-new-0123456789abcdef';

/** Replaces a file the way a rotation script should: write beside it, then rename over it. */
function rotate(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

// Before: SIGHUP (`systemctl reload`) killed the daemon — Node's default for the signal — and
// a rotated kiosk token applied only after a restart.
describe('SIGHUP re-reads the secret files of the running daemon', () => {
  const tmp = tempDir('kgw-sighup-');
  const up = new TestUpstream(() => ({ headers: { 'cache-control': 'no-store' }, body: 'katalog' }));
  let daemon: TestDaemon | undefined;

  afterAll(async () => {
    await daemon?.dispose();
    await up.stop();
    tmp.cleanup();
  });

  it('applies a rotated kiosk token and upstream token at once, keeps running, keeps the last good token over an empty file', async () => {
    await up.start();
    const kioskFile = join(tmp.path, 'adm-1.token');
    const upstreamFile = join(tmp.path, 'layanan.token');
    writeFileSync(kioskFile, `${KIOSK_OLD}\n`, { mode: 0o600 });
    writeFileSync(upstreamFile, 'upstream-one\n', { mode: 0o600 });
    daemon = await TestDaemon.start({
      dir: join(tmp.path, 'gw'),
      config: {
        devices: [{ id: 'adm-1', name: 'Anjungan Mandiri 1', kind: 'kiosk', token_file: kioskFile }],
        cache: {
          max_mb: 8,
          upstreams: [{ name: 'layanan', base_url: `${up.url}/api`, auth: { bearer_file: upstreamFile } }],
        },
      },
    });
    const d = daemon;
    const pid = d.proc?.pid;
    const get = (token: string) =>
      fetch(`${d.url}/svc/layanan/katalog`, { headers: { authorization: `Bearer ${token}` } });
    const lastUpstreamAuth = () => up.attempts.at(-1)?.headers.authorization;
    const hangup = async (msg: RegExp) => {
      const seen = d.logs.length;
      d.proc?.kill('SIGHUP');
      return d.waitForLog((l) => d.logs.indexOf(l) >= seen && msg.test(String(l.msg)));
    };

    expect((await get(KIOSK_OLD)).status).toBe(200);
    expect(lastUpstreamAuth()).toBe('Bearer upstream-one');

    rotate(kioskFile, `${KIOSK_NEW}\n`);
    rotate(upstreamFile, 'upstream-two\n');
    // Not yet: kiosk tokens are read at start and on SIGHUP only.
    expect((await get(KIOSK_NEW)).status).toBe(401);

    const reloaded = await hangup(/^SIGHUP: secret files reloaded/);
    expect(reloaded.modules).toEqual(expect.arrayContaining(['devices', 'cache']));
    expect((await get(KIOSK_NEW)).status).toBe(200);
    expect(lastUpstreamAuth()).toBe('Bearer upstream-two');
    expect((await get(KIOSK_OLD)).status).toBe(401);

    // A rotation caught half-written (an empty file): the kiosk keeps working on its last token.
    writeFileSync(kioskFile, '');
    const warned = await hangup(/^SIGHUP: reloaded, some secret files not usable/);
    expect(warned.problems).toEqual(['adm-1']);
    expect((await get(KIOSK_NEW)).status).toBe(200);

    // Same process throughout; no secret reached the log.
    expect(d.proc?.pid).toBe(pid);
    expect(d.proc?.exitCode).toBeNull();
    const log = JSON.stringify(d.logs);
    for (const secret of [KIOSK_OLD, KIOSK_NEW, 'upstream-one', 'upstream-two'])
      expect(log).not.toContain(secret);
    expect((await d.stop('SIGTERM')).code).toBe(0);
  });
});
