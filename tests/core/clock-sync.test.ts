import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../src/core/clock.js';
import { ClockSyncChecker, parseChronyTracking } from '../../src/core/clock-sync.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('kgw-clock-');
afterAll(() => tmp.cleanup());

// Recorded `chronyc -c tracking` lines (synchronised, and never synchronised after boot).
const CHRONY_SYNCED =
  'A9FEA97B,169.254.169.123,4,1764300000.123456789,0.000012345,-0.000001234,0.000023456,-12.345,0.001,0.012,0.000345,0.000123,64.4,Normal\n';
const CHRONY_UNSYNCED =
  '00000000,,0,0.000000000,0.000000000,0.000000000,0.000000000,0.000,0.000,0.000,1.000000000,1.000000000,0.0,Not synchronised\n';

describe('clock sync state', () => {
  it('parses chrony tracking CSV', () => {
    expect(parseChronyTracking(CHRONY_SYNCED)).toBe('Normal');
    expect(parseChronyTracking(CHRONY_UNSYNCED)).toBe('Not synchronised');
    expect(parseChronyTracking('')).toBeUndefined();
    expect(parseChronyTracking('506 Cannot talk to daemon')).toBeUndefined();
  });

  it('trusts timesyncd’s flag file, and is unsynced when no source answers', async () => {
    const flag = join(tmp.path, 'synchronized');
    const checker = new ClockSyncChecker({ flagFile: flag, chronyc: join(tmp.path, 'no-chronyc') });
    expect(await checker.check()).toEqual({ synced: false, source: 'none' });
    writeFileSync(flag, '');
    expect(await checker.check()).toEqual({ synced: true, source: 'timesyncd' });
    const clock = new SystemClock(checker);
    expect(clock.synced()).toBe(true);
  });

  it('reads chrony through its client when timesyncd is absent', async () => {
    const fake = join(tmp.path, 'chronyc');
    writeFileSync(fake, `#!/bin/sh\nprintf '%s' '${CHRONY_SYNCED.trim()}'\n`, { mode: 0o755 });
    const checker = new ClockSyncChecker({ flagFile: join(tmp.path, 'absent'), chronyc: fake });
    expect(await checker.check()).toEqual({ synced: true, source: 'chrony' });
  });

  it('the monotonic clock is in ms and never goes backwards', () => {
    const c = new SystemClock();
    const a = c.monoMs();
    const b = c.monoMs();
    expect(b).toBeGreaterThanOrEqual(a);
    expect(c.kernelBootId).toMatch(/^[0-9a-f-]{36}$/);
  });
});
