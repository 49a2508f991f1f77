import { lstatSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyFresh, writeDurable } from '../../src/upgrade/durable-fs.js';
import { tempDir } from '../helpers/tmp.js';

// The upgrader runs as root and writes into folders the daemon's user owns. Before: a planted
// `.result.json.tmp` symlink made root truncate and write whatever file it pointed at.
describe('root writes in a folder another user can write', () => {
  const tmp = tempDir('kgw-durable-');
  afterAll(() => tmp.cleanup());

  it('writeDurable and copyFresh never follow a planted temp symlink', () => {
    const victim = join(tmp.path, 'shadow');
    writeFileSync(victim, 'root:x:0:0\n');
    const result = join(tmp.path, 'result.json');
    symlinkSync(victim, join(tmp.path, '.result.json.tmp'));
    writeDurable(result, '{"outcome":"upgraded"}');
    expect(readFileSync(victim, 'utf8')).toBe('root:x:0:0\n');
    expect(readFileSync(result, 'utf8')).toBe('{"outcome":"upgraded"}');
    expect(lstatSync(result).isSymbolicLink()).toBe(false);

    const snap = join(tmp.path, 'snap.db');
    writeFileSync(snap, 'snapshot bytes');
    const restore = join(tmp.path, '.gateway.db.restore');
    symlinkSync(victim, restore);
    copyFresh(snap, restore, 0o640);
    expect(readFileSync(victim, 'utf8')).toBe('root:x:0:0\n');
    expect(readFileSync(restore, 'utf8')).toBe('snapshot bytes');
    expect(lstatSync(restore).mode & 0o777).toBe(0o640);
  });
});
