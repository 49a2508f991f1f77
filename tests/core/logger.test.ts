import { describe, expect, it } from 'vitest';
import { memoryLogger } from '../helpers/test-log.js';

describe('logger', () => {
  it('redacts secrets and bodies by path and keeps the component', () => {
    const { log, lines } = memoryLogger('info');
    const child = log.child({ component: 'mqtt' });
    child.info({ password: 'hunter2', mqtt: { password: 'x', username: 'gw-1' } }, 'connecting');
    child.warn(
      { req: { headers: { authorization: 'Bearer abc', cookie: 'sid=1' } }, body: { nik: '3510' } },
      'refused',
    );
    const out = JSON.stringify(lines());
    expect(out).not.toMatch(/hunter2|Bearer abc|sid=1|3510/);
    expect(lines()[0]).toMatchObject({ component: 'mqtt', level: 'info', password: '[redacted]' });
    expect(lines()[0]?.mqtt).toEqual({ password: '[redacted]', username: 'gw-1' });
  });
});
