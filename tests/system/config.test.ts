import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateConfigText } from '../../src/config/loader.js';
import { REPO_ROOT } from '../helpers/daemon.js';

const read = (f: string) => readFileSync(join(REPO_ROOT, 'config', f), 'utf8');

describe('system: config section', () => {
  it('defaults apply when the section is omitted (default.yaml)', () => {
    const r = validateConfigText(read('default.yaml'), join(REPO_ROOT, 'config', 'default.yaml'));
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.config.system).toMatchObject({
        health_interval_s: 30,
        write_budget_mb_per_day: 100,
        disk_floor_mb: 50,
        clock_jump_threshold_s: 2,
        timesync_flag: '/run/systemd/timesync/synchronized',
      });
    }
  });

  it('example.yaml documents every system key and they validate', () => {
    const text = read('example.yaml');
    const r = validateConfigText(text, join(REPO_ROOT, 'config', 'example.yaml'));
    // On a dev machine the example's secret files do not exist; nothing else may be wrong.
    const issues = r.ok ? [] : r.issues;
    expect(issues.filter((i) => !i.path.endsWith('_file'))).toEqual([]);
    for (const key of [
      'health_interval_s',
      'write_budget_mb_per_day',
      'disk_floor_mb',
      'disk_warn_pct',
      'memory_warn_pct',
      'temperature_warn_c',
      'clock_unsynced_alert_s',
      'clock_check_interval_s',
      'clock_jump_threshold_s',
      'timesync_flag',
    ]) {
      expect(text).toMatch(new RegExp(`^  ${key}:`, 'm'));
    }
  });

  it('unknown or out-of-range system keys are errors with their key path', () => {
    const base = read('default.yaml');
    const r = validateConfigText(`${base}\nsystem:\n  disk_floor_mb: 0\n  bogus: 1\n`, '/tmp/x.yaml');
    expect(r.ok).toBe(false);
    const paths = r.ok ? [] : r.issues.map((i) => i.path);
    expect(paths.some((p) => p.startsWith('system'))).toBe(true);
  });
});
