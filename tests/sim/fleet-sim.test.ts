import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestBroker } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/net.js';
import { type Received, Subscriber } from '../report/subscriber.js';
import { asyncApiValidator, envelopes, FleetSimProcess, kindOf, type Summary } from './fleet-harness.js';

const FIBER = '3510010001';
const POWER = '3510010002';
const DEVICE = '3510010003';
const QUIET = '3510010004';

type Env = Received & {
  json: { gw: string; seq: number; id: string; boot: string; historical: boolean; ts: string };
};

function byGw(msgs: Received[], gw: string): Env[] {
  return envelopes(msgs).filter((m) => m.json.gw === gw) as Env[];
}

describe('kampung-gw fleet-sim against a real Mosquitto', () => {
  const broker = new TestBroker();
  let sub: Subscriber;
  let sim: FleetSimProcess | undefined;
  let summary: Summary;
  let noc: mqtt.MqttClient;
  const replies = new Map<string, Record<string, unknown>>();

  beforeAll(async () => {
    await broker.start();
    sub = await Subscriber.connect(broker.url, 'kampung/v1/#');
    noc = mqtt.connect(broker.url, { protocolVersion: 5, clientId: 'noc-test' });
    await waitFor(() => noc.connected);
    await noc.subscribeAsync('regency/replies/#', { qos: 1 });
    noc.on('message', (_t, payload, packet) => {
      const corr = packet.properties?.correlationData?.toString() ?? '';
      replies.set(corr, JSON.parse(payload.toString()) as Record<string, unknown>);
    });
    // 300x: the 30 min of simulated faults below take 6 s; random faults off, scripted ones on.
    sim = new FleetSimProcess([
      ...['--mqtt', broker.url, '--villages', '4', '--speed', '300', '--duration', '6', '--linger', '60'],
      ...['--seed', '7', '--fault-rate', '0', '--usage-per-hour', '300'],
      ...['--fault', `fiber:600:600:${FIBER}`, '--fault', `power:600:600:${POWER}`],
      ...['--fault', `device:300:300:${DEVICE}`],
    ]);
    await sim.drained();
    // While lingering: gap repair by seq range, with an MQTT 5 response topic.
    const ask = (gw: string, name: string, body: unknown, corr?: string) =>
      noc.publishAsync(`kampung/v1/${gw}/cmd/${name}`, JSON.stringify(body), {
        qos: 1,
        ...(corr
          ? { properties: { responseTopic: `regency/replies/${gw}`, correlationData: Buffer.from(corr) } }
          : {}),
      });
    await ask(QUIET, 'resend', { id: 'r1', args: { ranges: [[2, 4]] } }, 'c-resend');
    await ask(QUIET, 'resend', { id: 'r2', args: { ranges: [[5, 1]] } }, 'c-bad');
    await ask(FIBER, 'ping', { id: 'p1', args: { probe: 'router' } });
    await waitFor(() => replies.has('c-resend') && replies.has('c-bad'));
    await waitFor(() => sub.on(`${FIBER}/cmd/ping/reply`).length === 1);
    await waitFor(
      () => byGw(sub.messages, QUIET).filter((m) => m.json.seq >= 2 && m.json.seq <= 4).length >= 6,
    );
    summary = await sim.stop();
    await waitFor(() => sub.on('/status').filter((m) => m.json.clean === true).length === 4);
  }, 120_000);

  afterAll(async () => {
    sim?.kill();
    await noc?.endAsync(true);
    await sub?.close();
    await broker.dispose();
  });

  it('the summary counts exactly the distinct envelopes a subscriber on the broker received', () => {
    const env = envelopes(sub.messages);
    const ids = new Set(env.map((m) => m.json.id as string));
    expect(summary.villages).toBe(4);
    expect(summary.published.total).toBe(ids.size);
    for (const kind of ['health', 'usage', 'event', 'outage']) {
      const n = new Set(env.filter((m) => kindOf(m.topic) === kind).map((m) => m.json.id)).size;
      expect(summary.published[kind], kind).toBe(n);
      expect(n, kind).toBeGreaterThan(0);
    }
    // Per village, seq runs 1..max with no gap: nothing accepted was lost, across a power cut too.
    for (const gw of [FIBER, POWER, DEVICE, QUIET]) {
      const seqs = new Set(byGw(sub.messages, gw).map((m) => m.json.seq));
      expect(seqs.size, gw).toBe(Math.max(...seqs));
    }
  });

  it('every payload validates against docs/asyncapi.yaml (envelopes, retained state, Will, replies)', () => {
    const validate = asyncApiValidator();
    const bad = sub.messages.map((m) => ({ topic: m.topic, ...validate(m) })).filter((r) => !r.ok);
    expect(bad).toEqual([]);
    const kinds = new Set(sub.messages.map((m) => validate(m).schema));
    for (const s of ['StatusPayload', 'LinkPayload', 'DevicePayload', 'HealthMessage', 'UsageMessage'])
      expect(kinds).toContain(s);
    for (const s of ['OutageMessage', 'EventMessage', 'CommandReply', 'CommandRequest'])
      expect(kinds).toContain(s);
    // Usage events carry the kiosk's UUID and a service of the simulated hall.
    const ev = sub.on('/usage').flatMap((m) => (m.json.data as { events: Array<{ id: string }> }).events);
    expect(ev.every((e) => /^[0-9a-f-]{36}$/.test(e.id))).toBe(true);
  });

  it('a fiber cut: verdict down with fault layer isp, the backlog replayed historical, then the outage', () => {
    const mine = byGw(sub.messages, FIBER);
    const downHealth = mine.filter((m) => {
      const link = (m.json as unknown as { data: { link?: { verdict: string; fault_layer: string } } }).data
        .link;
      return kindOf(m.topic) === 'health' && link?.verdict === 'down' && link.fault_layer === 'isp';
    });
    // 600 s cut, health every 60 s: about ten samples taken while cut off, all sent from the backlog.
    expect(downHealth.length).toBeGreaterThanOrEqual(8);
    expect(downHealth.every((m) => m.json.historical)).toBe(true);
    const outages = mine.filter((m) => kindOf(m.topic) === 'outage');
    expect(outages).toHaveLength(1);
    const o = (outages[0] as Env).json as unknown as {
      historical: boolean;
      seq: number;
      data: Record<string, unknown>;
    };
    expect(o.data).toMatchObject({ duration_s: 600, fault_layer: 'isp' });
    expect(Date.parse(o.data.end as string) - Date.parse(o.data.start as string)).toBe(600_000);
    expect(o.historical).toBe(true);
    expect(o.seq).toBeGreaterThan(Math.max(...downHealth.map((m) => m.json.seq)));
    // The broker said it was gone (Will), then it came back with the same boot (no power cut).
    const status = sub.on(`${FIBER}/status`).map((m) => m.json);
    expect(status.some((s) => s.online === false && s.clean === undefined)).toBe(true);
    expect(new Set(mine.map((m) => m.json.boot)).size).toBe(1);
  });

  it('a power cut: the Will fires, the box comes back with a new boot and seq continues by one', () => {
    const status = sub.on(`${POWER}/status`).map((m) => m.json);
    const births = status.filter((s) => s.online === true);
    const will = status.find((s) => s.online === false && s.clean === undefined);
    expect(will).toBeDefined();
    expect(will?.boot).toBe(births[0]?.boot);
    const boots = [...new Set(births.map((b) => b.boot))];
    expect(boots.length).toBeGreaterThanOrEqual(2);
    const mine = byGw(sub.messages, POWER);
    const seqsOf = (boot: unknown) => mine.filter((m) => m.json.boot === boot).map((m) => m.json.seq);
    expect(Math.min(...seqsOf(boots[1]))).toBe(Math.max(...seqsOf(boots[0])) + 1);
    // No real-time clock: the new boot stamps unsynced until NTP, then reports the jump.
    expect(mine.some((m) => m.json.boot === boots[1] && m.json.clock_synced === false)).toBe(true);
    expect(mine.some((m) => (m.json.data as { code?: string }).code === 'clock_jump')).toBe(true);
  });

  it('a device going offline and back: retained device state and device_changed events', () => {
    const states = sub.on(`${DEVICE}/device/adm-1`).map((m) => m.json.state);
    expect(states).toContain('offline');
    expect(states.at(-1)).toBe('online');
    const codes = byGw(sub.messages, DEVICE).map((m) => (m.json.data as { code?: string }).code);
    expect(codes.filter((c) => c === 'device_changed').length).toBeGreaterThanOrEqual(2);
  });

  it('resend republishes the requested seqs, same ids, marked historical; bad ranges are refused', () => {
    const r = replies.get('c-resend');
    expect(r).toMatchObject({ id: 'r1', ok: true, result: { requested: 3, resent: 3, missing: [] } });
    expect(replies.get('c-bad')).toMatchObject({ id: 'r2', ok: false, error: { code: 'bad_args' } });
    const mine = byGw(sub.messages, QUIET);
    for (const seq of [2, 3, 4]) {
      const copies = mine.filter((m) => m.json.seq === seq);
      expect(copies.length, `seq ${seq}`).toBeGreaterThanOrEqual(2);
      expect(new Set(copies.map((m) => m.json.id)).size).toBe(1);
      expect(copies.at(-1)?.json.historical).toBe(true);
      expect({ ...copies.at(-1)?.json, historical: null }).toEqual({ ...copies[0]?.json, historical: null });
    }
    expect(summary.resent).toBe(3);
    const ping = sub.on(`${FIBER}/cmd/ping/reply`)[0]?.json;
    expect(ping).toMatchObject({ id: 'p1', ok: true, result: { probe: 'router', outcome: 'ok' } });
  });
});

/** Per village, by seq: what each envelope says, without ids, stamps or live outbox figures. */
function fingerprint(msgs: Received[]): Record<string, string[]> {
  const out: Record<string, Map<number, string>> = {};
  for (const m of envelopes(msgs) as Env[]) {
    const d = m.json as unknown as { data: Record<string, never> };
    const data = d.data as Record<string, unknown> & {
      link?: { verdict: string; fault_layer: string | null };
      details?: Record<string, unknown>;
      events?: Array<{ service: string }>;
    };
    const kind = kindOf(m.topic);
    const what =
      kind === 'health'
        ? `${data.link?.verdict}/${data.link?.fault_layer}`
        : kind === 'usage'
          ? `${data.device_id}:${data.events?.map((e) => e.service).join(',')}`
          : kind === 'outage'
            ? `${data.fault_layer}/${data.duration_s}/${data.interrupted ?? false}`
            : `${data.code}/${JSON.stringify(data.details?.verdict ?? data.details?.state ?? data.details?.jump_s)}`;
    out[m.json.gw] ??= new Map();
    out[m.json.gw]?.set(m.json.seq, `${m.json.seq} ${kind} ${what}`);
  }
  return Object.fromEntries(
    Object.entries(out).map(([gw, seqs]) => [
      gw,
      [...seqs.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]),
    ]),
  );
}

describe('fleet-sim is deterministic by seed', () => {
  const broker = new TestBroker();
  beforeAll(() => broker.start());
  afterAll(() => broker.dispose());

  async function run(seed: string, prefix: string): Promise<Record<string, string[]>> {
    const sub = await Subscriber.connect(broker.url, `${prefix}/#`);
    const sim = new FleetSimProcess([
      ...['--mqtt', broker.url, '--prefix', prefix, '--villages', '3', '--speed', '6000', '--duration', '3'],
      ...['--seed', seed, '--fault-rate', '20', '--usage-per-hour', '30'],
    ]);
    try {
      const s = await sim.summary();
      await waitFor(
        () => new Set(envelopes(sub.messages).map((m) => m.json.id)).size >= (s.published.total ?? 0),
      );
      return fingerprint(sub.messages);
    } finally {
      sim.kill();
      await sub.close();
    }
  }

  it('the same seed gives the same messages (kinds, seqs, verdicts, services); another seed does not', async () => {
    const a = await run('42', 'det/a');
    const b = await run('42', 'det/b');
    const c = await run('43', 'det/c');
    expect(Object.keys(a)).toHaveLength(3);
    // Random faults did happen at this rate: some village lost its link, some its power.
    const lines = Object.values(a).flat();
    if (!lines.some((l) => / outage /.test(l)) || !lines.some((l) => /clock_jump/.test(l)))
      console.log(JSON.stringify(a, null, 1));
    expect(lines.some((l) => / outage /.test(l))).toBe(true);
    expect(lines.some((l) => /clock_jump/.test(l))).toBe(true);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  }, 90_000);
});
