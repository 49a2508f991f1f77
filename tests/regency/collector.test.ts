import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetVillage } from '../../src/regency/fleet.js';
import type { RegencyStatus } from '../../src/regency/status.js';
import { encodeEnvelope } from '../../src/report/envelope.js';
import { TestBroker } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';
import { Harness, reportConfig } from '../report/harness.js';
import { Subscriber } from '../report/subscriber.js';
import {
  DIALECTS,
  RegencyDaemon,
  regencyCli,
  regencyConfig,
  TestStore,
  VillagePublisher,
} from './helpers.js';

const GW = '3510170012'; // Kemiren, Glagah: in the bundled registry

describe.each(DIALECTS)('regency collector with a real broker and a real gateway (%s)', (dialect) => {
  const tmp = tempDir('kgw-regency-col-');
  const broker = new TestBroker();
  const store = new TestStore(dialect, tmp.path);
  let daemon: RegencyDaemon;
  let gateway: Harness;
  let observer: Subscriber;
  const pub = new VillagePublisher();

  const status = async () => {
    const r = await regencyCli(['status', '--json', '--config', daemon.configPath]);
    if (r.code !== 0) throw new Error(r.err);
    return JSON.parse(r.out) as RegencyStatus;
  };
  const fleet = async () => (await daemon.http<FleetVillage[]>('/api/v1/fleet')).body;
  const village = async (code: string) => (await fleet()).find((v) => v.code === code);

  beforeAll(async () => {
    await broker.start();
    await store.create();
    daemon = new RegencyDaemon(`${tmp.path}/regency`, regencyConfig(store, broker.url));
    await daemon.start();
    await daemon.login();
    observer = await Subscriber.connect(broker.url, 'kampung/v1/#');
    await pub.connect(broker.url);
    gateway = new Harness(`${tmp.path}/gw`, {
      ...reportConfig(`${tmp.path}/gw`, broker.url),
      devices: [{ id: 'adm-1', name: 'Anjungan 1', kind: 'kiosk' }],
    });
  });
  afterAll(async () => {
    await gateway?.kill();
    await observer?.close();
    await pub.close();
    await daemon?.kill();
    await broker.dispose();
    await store.drop();
    tmp.cleanup();
  });

  it('stores every envelope of a real gateway once and builds the village state from its topics', async () => {
    await gateway.start();
    await gateway.send('usage 12 4');
    await gateway.send('health 2');
    await gateway.send('alert disk_low 1');
    await gateway.send('outage dns');
    await gateway.send('device adm-1 offline');
    await gateway.send('link down');
    const envelopes = () =>
      new Set(
        observer.messages.filter((m) => !m.retain && typeof m.json.seq === 'number').map((m) => m.json.id),
      );
    await waitFor(() => envelopes().size >= 8 && gateway.lines.length > 0, 20_000);
    await waitFor(async () => (await status()).messages === envelopes().size, 20_000);
    const s = await status();
    expect(s).toMatchObject({ duplicates: 0, quarantined: 0, seq_gaps: 0, repaired: 0 });
    expect(Object.keys(s).sort()).toEqual(
      [
        'villages',
        'messages',
        'duplicates',
        'quarantined',
        'seq_gaps',
        'repaired',
        'unrepairable',
        'revoked',
        'reused',
        'lag_s',
      ].sort(),
    );
    await waitFor(async () => (await village(GW))?.state === 'down', 10_000);
    const v = await village(GW);
    expect(v).toMatchObject({
      code: GW,
      name: 'KEMIREN',
      kecamatan: 'GLAGAH',
      known: true,
      devices: { offline: 1 },
    });
    expect(v?.version).toBeTruthy();
    expect((await fleet()).length).toBe(203);
  });

  it('quarantines malformed, oversized, schema-violating and off-contract messages and keeps running', async () => {
    const before = (await status()).quarantined;
    const good = pub.envelope(GW, 'event', 10_000);
    await pub.raw(`kampung/v1/${GW}/event`, '{"v":1,');
    await pub.raw(`kampung/v1/${GW}/usage`, Buffer.alloc(300 * 1024, 0x7b));
    await pub.raw(`kampung/v1/${GW}/health`, encodeEnvelope({ ...good, seq: 0 }));
    await pub.raw(`kampung/v1/${GW}/bogus`, '{}');
    await pub.raw(`kampung/v1/${GW}/event`, encodeEnvelope({ ...good, gw: '3510170011' }));
    await pub.raw(`kampung/v1/${GW}/link`, '{"verdict":"sideways"}');
    await waitFor(async () => (await status()).quarantined - before === 6, 15_000);
    // Still collecting: an envelope from a village the registry does not know is kept, and listed.
    const stranger = pub.envelope('3599999999', 'event', 1);
    await pub.publish(stranger, 'event');
    await waitFor(async () => (await village('3599999999'))?.state !== undefined, 10_000);
    expect(await village('3599999999')).toMatchObject({ known: false, name: null, state: 'online' });
    expect(daemon.proc?.exitCode).toBeNull();
  });

  it('serves /healthz and the fleet metrics', async () => {
    expect((await daemon.http('/healthz')).status).toBe(200);
    const m = await daemon.http('/metrics');
    expect(m.status).toBe(200);
    for (const name of [
      'kampung_regency_messages_total',
      'kampung_regency_duplicates_total',
      'kampung_regency_quarantined_total',
      'kampung_regency_seq_gaps_total',
    ])
      expect(m.text).toMatch(new RegExp(`^${name} \\d+`, 'm'));
    expect(m.text).toMatch(/^kampung_regency_villages\{state="down"\} 1$/m);
  });

  it('a clean gateway stop (and the retained status) makes the village offline, also after a collector restart', async () => {
    await gateway.stop();
    await waitFor(async () => (await village(GW))?.state === 'offline', 10_000);
    await daemon.stop();
    await daemon.start();
    // The session is in the store: it outlives the collector's restart.
    expect((await village(GW))?.state).toBe('offline');
    // Back: its birth and its link (unknown right after a start) make it online again.
    await gateway.start();
    await waitFor(async () => (await village(GW))?.state === 'online', 10_000);
  });

  it('regency user add|passwd|remove manage scrypt accounts in the same store (collector running)', async () => {
    const cfg = ['--config', daemon.configPath];
    expect((await regencyCli(['user', 'add', 'noc-ana', ...cfg], 'rahasia-panjang\n')).code).toBe(0);
    const again = await regencyCli(['user', 'add', 'noc-ana', ...cfg], 'rahasia-panjang\n');
    expect([again.code, again.err]).toEqual([1, expect.stringMatching(/already exists/)]);
    expect((await regencyCli(['user', 'add', 'noc-budi', ...cfg], 'short\n')).code).toBe(1);
    expect((await regencyCli(['user', 'passwd', 'noc-ana', ...cfg], 'lebih-rahasia-lagi\n')).code).toBe(0);
    expect((await regencyCli(['user', 'remove', 'noc-ana', ...cfg])).code).toBe(0);
    expect((await regencyCli(['user', 'remove', 'noc-ana', ...cfg])).code).toBe(1);
    expect((await regencyCli(['user', 'frobnicate', 'x', ...cfg])).code).toBe(2);
  }, 90_000); // seven CLI processes, each a node start and a scrypt: slow on a busy box
});
