import { execFileSync } from 'node:child_process';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { faketimeBaseS, faketimeOffset } from './faketime.js';
import { TestBroker } from './mosquitto.js';
import { NetnsLab } from './netns.js';

describe('TestBroker (real mosquitto)', () => {
  const broker = new TestBroker();
  afterAll(() => broker.dispose());

  it('starts on its own port, keeps retained messages across a clean restart, and can be killed', async () => {
    await broker.start();
    const pub = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    await pub.publishAsync('t/retained', 'kept', { qos: 1, retain: true });
    await pub.endAsync();
    await broker.restart();
    const sub = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    const got = new Promise<string>((resolve) => sub.on('message', (_t, m) => resolve(m.toString())));
    await sub.subscribeAsync('t/retained', { qos: 1 });
    expect(await got).toBe('kept');
    await sub.endAsync();
    await broker.kill();
    expect(broker.running).toBe(false);
    await expect(
      mqtt.connectAsync(broker.url, { reconnectPeriod: 0, connectTimeout: 500 }),
    ).rejects.toThrow();
  });
});

describe.skipIf(!NetnsLab.available())('NetnsLab (real network namespaces)', () => {
  const lab = new NetnsLab('hlp');
  afterAll(() => lab.destroy());

  it('connects two namespaces with a veth pair, cuts and restores the link', () => {
    lab.create('a');
    lab.create('b');
    const { a } = lab.veth('a', 'b', '10.231.0.1/30', '10.231.0.2/30', 'x');
    const ping = () => {
      try {
        lab.exec('a', 'fping', ['-c', '1', '-t', '300', '-q', '10.231.0.2']);
        return true;
      } catch {
        return false;
      }
    };
    expect(ping()).toBe(true);
    lab.setLink('a', a, false);
    expect(ping()).toBe(false);
    lab.setLink('a', a, true);
    expect(ping()).toBe(true);
    lab.destroy();
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toMatch(/hlp-a/);
  });
});

describe('faketime offsets', () => {
  it("composes a test offset with the runner's own relative FAKETIME", () => {
    expect(faketimeBaseS({})).toBe(0);
    expect(faketimeBaseS({ FAKETIME: '+365d' })).toBe(365 * 86_400);
    expect(faketimeBaseS({ FAKETIME: '-2h' })).toBe(-7200);
    expect(faketimeBaseS({ FAKETIME: '@2030-01-01 00:00:00' })).toBe(0);
    expect(faketimeOffset(0, {})).toBe('+0');
    expect(faketimeOffset(-86_400, { FAKETIME: '+365d' })).toBe(`+${364 * 86_400}`);
    expect(faketimeOffset(-86_400, {})).toBe('-86400');
  });
});
