import { describe, expect, it } from 'vitest';
import { isGwError } from '../../src/core/errors.js';
import { Lifecycle, type Service } from '../../src/core/service.js';
import { memoryLogger } from '../helpers/test-log.js';

function recorder() {
  const events: string[] = [];
  const svc = (
    name: string,
    opts: { failStart?: boolean; failStop?: boolean; hangStop?: boolean } = {},
  ): Service => ({
    name,
    start: async () => {
      if (opts.failStart) throw new Error(`${name} cannot start`);
      events.push(`start ${name}`);
    },
    stop: async () => {
      if (opts.hangStop) await new Promise(() => undefined);
      if (opts.failStop) throw new Error(`${name} cannot stop`);
      events.push(`stop ${name}`);
    },
  });
  return { events, svc };
}

describe('Lifecycle', () => {
  it('starts in order and stops in reverse order', async () => {
    const { events, svc } = recorder();
    const lc = new Lifecycle([svc('a'), svc('b'), svc('c')], { log: memoryLogger().log });
    await lc.start();
    expect(await lc.stop()).toEqual([]);
    expect(events).toEqual(['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a']);
  });

  it('on a failed start, stops only what had started', async () => {
    const { events, svc } = recorder();
    const lc = new Lifecycle([svc('a'), svc('b', { failStart: true }), svc('c')], {
      log: memoryLogger().log,
    });
    const err = await lc.start().catch((e: unknown) => e);
    expect(isGwError(err, 'GW_ERR_SERVICE_START')).toBe(true);
    await lc.stop();
    expect(events).toEqual(['start a', 'stop a']);
  });

  it('time-boxes each stop and isolates failures, finishing within the total budget', async () => {
    const { events, svc } = recorder();
    const { log, lines } = memoryLogger();
    const lc = new Lifecycle(
      [svc('a'), svc('hang', { hangStop: true }), svc('fail', { failStop: true }), svc('d')],
      {
        log,
        stepTimeoutMs: 200,
        totalTimeoutMs: 1000,
      },
    );
    await lc.start();
    const t0 = performance.now();
    expect(await lc.stop()).toEqual(['fail', 'hang']);
    expect(performance.now() - t0).toBeLessThan(600);
    expect(events.filter((e) => e.startsWith('stop'))).toEqual(['stop d', 'stop a']);
    expect(lines().filter((l) => l.msg === 'service stop failed')).toHaveLength(2);
  });
});
