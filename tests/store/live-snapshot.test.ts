import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import { LiveSnapshot, readLiveSnapshot, SNAPSHOT_FILE } from '../../src/store/live-snapshot.js';
import { StateRepo } from '../../src/store/state-repo.js';
import { Store } from '../../src/store/store.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { tempDir } from '../helpers/tmp.js';

const log = createLogger({ level: 'fatal' });
const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function open() {
  const tmp = tempDir('kgw-live-');
  const store = new Store({ dataDir: join(tmp.path, 'data'), log, clock: new FakeClock() });
  store.start();
  cleanups.push(() => {
    store.stop();
    tmp.cleanup();
  });
  const repo = new StateRepo({ db: () => store.db });
  const walBytes = () => statSync(`${store.path}-wal`).size;
  const rows = () => (store.db.prepare('SELECT COUNT(*) AS n FROM current_state').get() as { n: number }).n;
  return { dir: tmp.path, store, repo, walBytes, rows };
}

describe('LiveSnapshot', () => {
  it('keeps the status sections in the runtime directory and writes nothing to the database', () => {
    const { dir, repo, walBytes, rows } = open();
    const runDir = join(dir, 'run');
    const live = new LiveSnapshot({ dir: runDir, log, fallback: repo });
    const wal0 = walBytes();
    for (let i = 0; i < 50; i++) {
      live.put('devices', [{ id: 'adm-1', state: i % 2 ? 'online' : 'offline' }], 1_000 + i);
      live.put('outbox', { depth: i, connected: true }, 1_000 + i);
    }
    // Not one WAL frame and not one row: the SD card is spared every status write.
    expect(walBytes()).toBe(wal0);
    expect(rows()).toBe(0);
    // Replaced atomically: only the snapshot itself is left, and it holds the last values.
    expect(readdirSync(runDir)).toEqual([SNAPSHOT_FILE]);
    expect(readLiveSnapshot(runDir)).toEqual({
      devices: { value: [{ id: 'adm-1', state: 'online' }], updated_wall: 1_049 },
      outbox: { value: { depth: 49, connected: true }, updated_wall: 1_049 },
    });
    // A later run (a restart of the service) starts from it.
    expect(new LiveSnapshot({ dir: runDir, log }).get('outbox')).toEqual({
      value: { depth: 49, connected: true },
      updated_wall: 1_049,
    });
  });

  it('falls back to the database where the runtime directory cannot be written', () => {
    const { dir, repo, rows } = open();
    // A file where the directory should be: as /run/kampung-gateway under a unit without
    // RuntimeDirectory= (read-only /run), mkdir and the write fail.
    const blocked = join(dir, 'not-a-dir');
    writeFileSync(blocked, '');
    const live = new LiveSnapshot({ dir: blocked, log, fallback: repo });
    live.put('link', { verdict: 'up' }, 2_000);
    expect(rows()).toBe(1);
    expect(repo.get('link')).toEqual({ value: { verdict: 'up' }, updated_wall: 2_000 });
    expect(live.get('link')).toEqual({ value: { verdict: 'up' }, updated_wall: 2_000 });
  });

  it('reads a section an older version left in the database until the snapshot has a newer one', () => {
    const { dir, repo } = open();
    repo.put('cache', { entries: 3 }, 5_000);
    const live = new LiveSnapshot({ dir: join(dir, 'run'), log, fallback: repo });
    expect(live.get('cache')?.value).toEqual({ entries: 3 });
    live.put('cache', { entries: 4 }, 6_000);
    expect(live.get('cache')?.value).toEqual({ entries: 4 });
  });
});
