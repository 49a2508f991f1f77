// brokerOptions(): what every mqtt.connect() in the product is given instead of a URL string
// (the bundled mqtt.js would read a string with url.parse(), which Node 24 warns about).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfigText } from '../../src/config/loader.js';
import { validateRegencyConfigText } from '../../src/regency/config.js';
import { brokerOptions, brokerUrlProblem } from '../../src/report/broker-url.js';
import { REPO_ROOT } from '../helpers/daemon.js';
import { TestBroker } from '../helpers/mosquitto.js';
import { freePort } from '../helpers/net.js';

describe('brokerOptions', () => {
  it('reads protocol, host and port, and leaves out a port the URL does not give', () => {
    expect(brokerOptions('mqtt://127.0.0.1:1883')).toEqual({
      protocol: 'mqtt',
      host: '127.0.0.1',
      port: 1883,
    });
    expect(brokerOptions('mqtts://mqtt.banyuwangikab.go.id')).toEqual({
      protocol: 'mqtts',
      host: 'mqtt.banyuwangikab.go.id',
    });
    expect(brokerOptions('mqtt://[::1]:18830')).toEqual({ protocol: 'mqtt', host: '::1', port: 18830 });
  });

  it('decodes credentials written in the URL, and lets options given beside it win', () => {
    expect(brokerOptions('mqtt://gw%403510012001:p%3Aw%2Fd@h:1')).toMatchObject({
      username: 'gw@3510012001',
      password: 'p:w/d',
    });
    const o = brokerOptions('mqtt://url-user:url-pw@h:1', { username: 'file-user', clientId: 'kgw-x' });
    expect(o).toMatchObject({ username: 'file-user', password: 'url-pw', clientId: 'kgw-x', host: 'h' });
  });

  it('keeps a path only for a WebSocket broker, as mqtt.js does', () => {
    expect(brokerOptions('mqtt://h:1/ignored').path).toBeUndefined();
    expect(brokerOptions('wss://h/mqtt?x=1')).toMatchObject({ protocol: 'wss', path: '/mqtt?x=1' });
  });

  it('throws on what is not a URL, as mqtt.connect would', () => {
    expect(() => brokerOptions('127.0.0.1:1883 ')).toThrow();
    expect(() => brokerOptions('')).toThrow();
  });

  it('keeps credentials that are not valid percent-encoding as written, instead of throwing', () => {
    expect(brokerOptions('mqtt://u%E0:p%ZZ@h:1')).toMatchObject({ username: 'u%E0', password: 'p%ZZ' });
  });

  it('names what check-config must refuse: an unreadable URL, or one with no host', () => {
    for (const ok of ['mqtt://127.0.0.1:1883', 'mqtts://[::1]:8883', 'mqtt://mqtt.banyuwangikab.go.id'])
      expect(brokerUrlProblem(ok)).toBeNull();
    for (const bad of ['mqtt://exa mple:1883', 'mqtt://127.0.0.1:99999', 'mqtt://[::1', 'mqtt://'])
      expect(brokerUrlProblem(bad), bad).not.toBeNull();
  });

  it('check-config refuses such a URL in the gateway and the regency config, naming the key', () => {
    const gw = (url: string) =>
      validateConfigText(
        `gateway: { id: "3510170012", name: "Kemiren" }\nmqtt: { url: "${url}" }\n`,
        '/tmp/c.yaml',
      );
    expect(gw('mqtt://127.0.0.1:1883').ok).toBe(true);
    const refused = gw('mqtt://exa mple:1883');
    expect(refused.ok ? [] : refused.issues.map((i) => i.path)).toEqual(['mqtt.url']);
    const regency = (extra: string) =>
      validateRegencyConfigText(
        `regency: { name: "Diskominfo Banyuwangi" }\nmqtt: { url: "mqtt://127.0.0.1:1883" }\n${extra}`,
        '/tmp/r.yaml',
      );
    expect(regency('').ok).toBe(true);
    const r = regency('provision: { gateway_url: "mqtts://broker:70000" }\n');
    expect(r.ok ? [] : r.issues.map((i) => i.path)).toEqual(['provision.gateway_url']);
  });

  it('is what every mqtt.connect() in src/ is given', () => {
    const files: string[] = [];
    const walk = (d: string): void => {
      for (const n of readdirSync(d)) {
        const p = join(d, n);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith('.ts')) files.push(p);
      }
    };
    walk(join(REPO_ROOT, 'src'));
    const calls = files.flatMap((f) =>
      [
        // code only: doc comments name mqtt.connect() too
        ...readFileSync(f, 'utf8')
          .replace(/^\s*(\/\/|\*|\/\*\*).*$/gm, '')
          .matchAll(/mqtt\.connect(?:Async)?\(\s*([^\s,)]*)/g),
      ].map((m) => ({
        f,
        arg: m[1] ?? '',
      })),
    );
    expect(calls.length).toBeGreaterThanOrEqual(6);
    expect(calls.filter((c) => !c.arg.startsWith('brokerOptions('))).toEqual([]);
  });
});

describe('brokerOptions against a real Mosquitto', () => {
  let broker: TestBroker;
  let v6Port = 0;
  beforeAll(async () => {
    v6Port = await freePort();
    // A second listener on the IPv6 loopback: the bracketed host must reach it.
    broker = new TestBroker({ extraConfig: [`listener ${v6Port} ::1`] });
    await broker.start();
  });
  afterAll(() => broker.dispose());

  const connects = (url: string) =>
    new Promise<void>((resolve, reject) => {
      const c = mqtt.connect(brokerOptions(url, { reconnectPeriod: 0, connectTimeout: 5000 }));
      c.once('connect', () => {
        c.end(true);
        resolve();
      });
      c.once('error', (err) => {
        c.end(true);
        reject(err);
      });
      c.once('close', () => reject(new Error(`closed before CONNACK: ${url}`)));
    });

  it('connects by IPv4 and by a bracketed IPv6 address', async () => {
    await connects(broker.url);
    await connects(`mqtt://[::1]:${v6Port}`);
  });
});
