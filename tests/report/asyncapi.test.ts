import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { Ajv } from 'ajv';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PAYLOAD_SCHEMAS, type PayloadKind } from '../../src/report/envelope-schema.js';
import { parseTopic } from '../../src/report/topics.js';
import { REPO_ROOT } from '../helpers/daemon.js';
import { TestBroker } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';
import { Harness, reportConfig } from './harness.js';
import { type Received, Subscriber } from './subscriber.js';

const ROOT = 'kampung/v1/3510170012';
const BOX_SECRET = 'rahasia-kotak-Qv7mZ2';

/** Schema name for a topic under the root. */
function schemaFor(topic: string): string | undefined {
  const rest = topic.slice(ROOT.length + 1);
  if (rest === 'status') return 'StatusPayload';
  if (rest === 'link') return 'LinkPayload';
  if (rest.startsWith('device/')) return 'DevicePayload';
  if (rest === 'health') return 'HealthMessage';
  if (rest === 'usage') return 'UsageMessage';
  if (rest === 'outage') return 'OutageMessage';
  if (rest === 'event') return 'EventMessage';
  if (/^cmd\/[^/]+\/reply$/.test(rest)) return 'CommandReply';
  if (/^cmd\/[^/]+$/.test(rest)) return 'CommandRequest';
  return undefined;
}

describe('docs/asyncapi.yaml describes the real payloads', () => {
  const broker = new TestBroker();
  const tmp = tempDir('kgw-asyncapi-');
  const doc = parse(readFileSync(join(REPO_ROOT, 'docs', 'asyncapi.yaml'), 'utf8')) as {
    asyncapi: string;
    channels: Record<string, { address: string }>;
    components: { schemas: Record<string, unknown> };
  };
  const ajv = new Ajv({ strict: false, allErrors: true });
  const validate = (name: string, value: unknown) => {
    // The doc's refs are '#/components/schemas/X'; resolve them against a wrapper document.
    const v = ajv.getSchema(`asyncapi#/components/schemas/${name}`);
    if (!v) throw new Error(`no schema ${name}`);
    return { ok: v(value) as boolean, errors: v.errors };
  };
  ajv.addSchema({ components: { schemas: doc.components.schemas } }, 'asyncapi');

  beforeAll(() => broker.start());
  afterAll(async () => {
    await broker.dispose();
    tmp.cleanup();
  });

  it('is AsyncAPI 3 with a schema for every channel', () => {
    expect(doc.asyncapi).toMatch(/^3\./);
    for (const ch of Object.values(doc.channels))
      expect(
        schemaFor(
          ch.address
            .replace('{prefix}/{gatewayId}', ROOT)
            .replace('{deviceId}', 'adm-1')
            .replace('{name}', 'ping'),
        ),
      ).toBeDefined();
  });

  it('every published payload validates (birth, Will, clean stop, retained state, all classes, replies)', async () => {
    const sub = await Subscriber.connect(broker.url, `${ROOT}/#`);
    // A provisioned box's identity: the birth names the username, and nothing carries the secret.
    const secretFile = join(tmp.path, 'mqtt.secret');
    writeFileSync(secretFile, `${BOX_SECRET}\n`, { mode: 0o600 });
    const h = new Harness(`${tmp.path}/h`, {
      ...reportConfig(`${tmp.path}/h`, broker.url, {
        username: 'gw-3510170012.2',
        password_file: secretFile,
      }),
      devices: [{ id: 'adm-1', name: 'Anjungan 1', kind: 'kiosk' }],
    });
    const noc = mqtt.connect(broker.url, { protocolVersion: 5 });
    try {
      await h.start();
      await waitFor(async () => (await h.status()).connected === true);
      await h.send('usage 12 4');
      await h.send('health 2');
      await h.send('alert disk_low 1');
      await h.send('outage dns');
      await h.send('link down');
      await h.send('device adm-1 offline');
      await waitFor(() => noc.connected);
      for (const [name, body] of [
        ['get-config', { id: 'a1' }],
        ['flush-outbox', { id: 'a2' }],
        ['ping', { id: 'a3', args: { probe: 'x' } }],
        ['nope', { id: 'a4' }],
      ] as const)
        await noc.publishAsync(`${ROOT}/cmd/${name}`, JSON.stringify(body), { qos: 1 });
      await noc.publishAsync(`${ROOT}/cmd/get-config`, '{{', { qos: 1 });
      await waitFor(() => sub.messages.filter((m) => m.topic.endsWith('/reply')).length >= 5);
      await waitFor(
        () => sub.on('/event').length >= 3 && sub.on('/outage').length >= 1 && sub.on('/health').length >= 2,
      );
      await h.kill(); // the broker publishes the Will
      await waitFor(() => sub.on('/status').some((m) => m.json.online === false));
      await h.start();
      await waitFor(() => sub.on('/status').filter((m) => m.json.online === true).length >= 2);
      await h.stop(); // clean stop: {online:false, clean:true}
      await waitFor(() => sub.on('/status').some((m) => m.json.clean === true));

      const seen = new Set<string>();
      const bad: Array<{ m: Received; errors: unknown }> = [];
      const sharedKinds = new Set<string>();
      // Only our deliberately broken request is not a valid payload.
      for (const m of sub.messages.filter((x) => x.payload !== '{{')) {
        const name = schemaFor(m.topic);
        expect(name, m.topic).toBeDefined();
        const r = validate(name as string, m.json);
        if (!r.ok) bad.push({ m, errors: r.errors });
        seen.add(name as string);
        // The TypeBox schema the regency collector validates with accepts the same payload.
        const kind = parseTopic('kampung/v1', m.topic)?.kind;
        if (kind && kind in PAYLOAD_SCHEMAS) {
          const shared = PAYLOAD_SCHEMAS[kind as PayloadKind];
          if (!Value.Check(shared, m.json)) bad.push({ m, errors: [...Value.Errors(shared, m.json)] });
          sharedKinds.add(kind);
        }
      }
      expect(bad).toEqual([]);
      const births = sub.on('/status').filter((m) => m.json.online === true);
      expect(births.length).toBeGreaterThanOrEqual(2);
      for (const b of births) expect(b.json.mqtt_user).toBe('gw-3510170012.2');
      expect(sub.messages.filter((m) => m.payload.includes(BOX_SECRET))).toEqual([]);
      for (const n of [
        'StatusPayload',
        'LinkPayload',
        'DevicePayload',
        'HealthMessage',
        'UsageMessage',
        'OutageMessage',
        'EventMessage',
        'CommandReply',
        'CommandRequest',
      ])
        expect(seen).toContain(n);
      expect([...sharedKinds].sort()).toEqual(Object.keys(PAYLOAD_SCHEMAS).sort());
      // And the schemas are not vacuous.
      expect(validate('UsageMessage', { ...sub.on('/usage')[0]?.json, seq: 0 }).ok).toBe(false);
      expect(validate('CommandReply', { id: 'x', ok: true }).ok).toBe(false);
      expect(validate('StatusPayload', {}).ok).toBe(false);
      const usage = sub.on('/usage')[0]?.json;
      expect(Value.Check(PAYLOAD_SCHEMAS.usage, usage)).toBe(true);
      expect(Value.Check(PAYLOAD_SCHEMAS.usage, { ...usage, seq: 0 })).toBe(false);
      expect(Value.Check(PAYLOAD_SCHEMAS.usage, { ...usage, extra: 1 })).toBe(false);
      expect(Value.Check(PAYLOAD_SCHEMAS.status, {})).toBe(false);
    } finally {
      await noc.endAsync(true);
      await h.kill();
      await sub.close();
    }
  }, 60_000);
});
