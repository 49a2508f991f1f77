import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import { runChecks } from '../../src/system/doctor/runner.js';
import { type DoctorCheck, result, t } from '../../src/system/doctor/types.js';

const ctx = { config: {} as Config, configFile: '/dev/null', env: {} };
const line = (check: string, status: 'ok' | 'fail' = 'ok') => result(check, status, t(check, check));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('doctor runner', () => {
  it('runs checks side by side, shows lines as they finish, returns them in checklist order', async () => {
    const slow: DoctorCheck = {
      name: 'slow',
      run: async () => {
        await sleep(300);
        return line('slow');
      },
    };
    const fast: DoctorCheck = { name: 'fast', run: async () => line('fast') };
    const seen: string[] = [];
    const t0 = performance.now();
    const out = await runChecks([slow, slow, fast], ctx, { onLine: (l) => seen.push(l.check) });
    expect(performance.now() - t0).toBeLessThan(550);
    expect(seen[0]).toBe('fast');
    expect(out.map((l) => l.check)).toEqual(['slow', 'slow', 'fast']);
  });

  it('keeps the lines a check emitted before its time limit, and says it did not finish', async () => {
    const partial: DoctorCheck = {
      name: 'uplink',
      run: async ({ emit, signal }) => {
        const a = line('uplink.router');
        emit?.(a);
        await new Promise((r) => signal.addEventListener('abort', r));
        const late = line('uplink.late');
        emit?.(late); // after the cut: not shown
        return [a, late];
      },
    };
    const seen: string[] = [];
    const out = await runChecks([partial], ctx, { timeoutMs: 200, onLine: (l) => seen.push(l.check) });
    expect(out.map((l) => [l.check, l.status])).toEqual([
      ['uplink.router', 'ok'],
      ['uplink', 'fail'],
    ]);
    expect(out[1]?.title.en).toBe('Check uplink did not finish within 0.2 s');
    expect(seen).toEqual(['uplink.router', 'uplink']);
  });

  it('a check that throws is its own failed line; the others are unaffected', async () => {
    const broken: DoctorCheck = {
      name: 'broken',
      run: async () => {
        throw new Error('boom');
      },
    };
    const out = await runChecks([broken, { name: 'ok', run: async () => line('ok') }], ctx);
    expect(out.map((l) => [l.check, l.status])).toEqual([
      ['broken', 'fail'],
      ['ok', 'ok'],
    ]);
  });
});
