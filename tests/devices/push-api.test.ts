import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, events, type Harness, harness, uuid } from './harness.js';

let h: Harness;
const post = (
  id: string,
  kind: 'events' | 'heartbeat',
  payload: unknown,
  headers: Record<string, string> = auth(id),
) =>
  h.app.inject({ method: 'POST', url: `/api/v1/devices/${id}/${kind}`, headers, payload: payload as object });

beforeAll(async () => {
  h = await harness([
    { id: 'adm-1', heartbeat_timeout_s: 60 },
    { id: 'adm-2' },
    { id: 'cam-1', kind: 'camera', token: null },
  ]);
});
afterAll(() => h.close());

describe('usage events', () => {
  it('answers 202 with accepted/duplicates and stores each id once with its receive stamps', async () => {
    const batch = events(5, 'akta-kelahiran');
    const first = await post('adm-1', 'events', { events: batch });
    expect(first.statusCode).toBe(202);
    expect(first.json()).toEqual({ accepted: 5, duplicates: 0 });
    const again = await post('adm-1', 'events', { events: [...batch.slice(0, 3), ...events(2)] });
    expect(again.json()).toEqual({ accepted: 2, duplicates: 3 });
    expect(h.devices.usage.countIds(batch.map((e) => e.id))).toBe(5);
    const row = h.store.db.prepare('SELECT * FROM usage_events WHERE id = ?').get(batch[0]?.id) as Record<
      string,
      unknown
    >;
    expect(row).toMatchObject({
      device_id: 'adm-1',
      service: 'akta-kelahiran',
      run_id: 'run-test-0001',
      clock_synced: 1,
    });
    expect(row.kernel_boot).toMatch(/b007$/);
    expect(typeof row.recv_mono).toBe('number');
    expect(typeof row.recv_wall).toBe('number');
  });

  it('counts a duplicate inside one batch once', async () => {
    const [e] = events(1);
    const r = await post('adm-2', 'events', { events: [e, e, e] });
    expect(r.json()).toEqual({ accepted: 1, duplicates: 2 });
  });

  it('emits usage.stored after the commit with the original ids and no extra fields', async () => {
    const got: Array<{ device_id: string; events: Array<Record<string, unknown>> }> = [];
    const off = h.bus.on('usage.stored', (p) => {
      // Emitted after the commit: the rows are already there.
      expect(h.devices.usage.countIds(p.events.map((e) => String(e.id)))).toBe(p.events.length);
      got.push(p);
    });
    const batch = [{ ...events(1)[0], at: '2026-11-28T03:04:05Z', outcome: 'ok', duration_ms: 61000 }];
    await post('adm-2', 'events', { events: batch });
    await post('adm-2', 'events', { events: batch });
    off();
    expect(got).toHaveLength(1);
    expect(got[0]?.device_id).toBe('adm-2');
    expect(got[0]?.events[0]).toMatchObject({
      id: batch[0]?.id,
      service: 'ktp-el',
      at: '2026-11-28T03:04:05.000Z',
      outcome: 'ok',
      duration_ms: 61000,
    });
  });

  it('counts usage per device × service × hour', async () => {
    const hour = '2026-11-20T05:00:00.000Z';
    const batch = ['kartu-keluarga', 'kartu-keluarga', 'surat-pindah'].map((service, i) => ({
      id: uuid(),
      type: 'service_use',
      service,
      at: `2026-11-20T05:${10 + i}:00+00:00`,
    }));
    await post('adm-2', 'events', { events: batch });
    await post('adm-2', 'events', { events: batch });
    const r = await h.app.inject({ url: '/api/v1/usage?from=2026-11-20T05:00:00Z&to=2026-11-20T06:00:00Z' });
    expect(r.statusCode).toBe(200);
    const counts = r.json().counts as Array<{ service: string; start: string; count: number }>;
    expect(counts).toEqual([
      { device_id: 'adm-2', service: 'kartu-keluarga', start: hour, count: 2 },
      { device_id: 'adm-2', service: 'surat-pindah', start: hour, count: 1 },
    ]);
    const bad = await h.app.inject({ url: '/api/v1/usage?from=2026-11-28&to=2025-01-01' });
    expect(bad.statusCode).toBe(400);
  });

  it('groups usage counts by day and by month', async () => {
    const ats = [
      '2026-09-30T23:30:00Z',
      '2026-10-01T00:10:00Z',
      '2026-10-01T09:00:00Z',
      '2026-10-15T12:00:00Z',
    ];
    const batch = ats.map((at) => ({
      id: uuid(),
      type: 'service_use',
      service: 'surat-keterangan-usaha',
      at,
    }));
    expect((await post('adm-1', 'events', { events: batch })).statusCode).toBe(202);
    const get = async (q: string) =>
      (await h.app.inject({ url: `/api/v1/usage?${q}` })).json() as {
        bucket: string;
        counts: Array<{ service: string; start: string; count: number }>;
        totals: Array<{ service: string; count: number }>;
      };
    const days = await get('from=2026-09-30&to=2026-10-31&bucket=day');
    expect(
      days.counts.filter((c) => c.service === 'surat-keterangan-usaha').map((c) => [c.start, c.count]),
    ).toEqual([
      ['2026-09-30T00:00:00.000Z', 1],
      ['2026-10-01T00:00:00.000Z', 2],
      ['2026-10-15T00:00:00.000Z', 1],
    ]);
    const months = await get('from=2026-09-01&to=2026-11-01&bucket=month');
    expect(
      months.counts.filter((c) => c.service === 'surat-keterangan-usaha').map((c) => [c.start, c.count]),
    ).toEqual([
      ['2026-09-01T00:00:00.000Z', 1],
      ['2026-10-01T00:00:00.000Z', 3],
    ]);
    expect(months.totals.find((t) => t.service === 'surat-keterangan-usaha')?.count).toBe(4);
    // Longer than two days without a bucket: per day.
    expect((await get('from=2026-09-01&to=2026-11-01')).bucket).toBe('day');
    expect((await h.app.inject({ url: '/api/v1/usage?from=2024-01-01&to=2026-01-01' })).statusCode).toBe(400);
  });

  it('counts the last N days by the box clock (days=), whatever the date the caller has', async () => {
    const now = h.clock.wallMs();
    const at = new Date(now - 3 * 86400_000).toISOString();
    const inside = { id: uuid(), type: 'service_use', service: 'legalisir-7-hari', at };
    const outside = { ...inside, id: uuid(), at: new Date(now - 9 * 86400_000).toISOString() };
    expect((await post('adm-1', 'events', { events: [inside, outside] })).statusCode).toBe(202);
    const r = await h.app.inject({ url: '/api/v1/usage?days=7&bucket=day' });
    expect(r.statusCode).toBe(200);
    const body = r.json() as { from: string; to: string; totals: Array<{ service: string; count: number }> };
    expect(Date.parse(body.to)).toBe(now);
    expect(Date.parse(body.from)).toBe(now - 7 * 86400_000);
    expect(body.totals.find((t) => t.service === 'legalisir-7-hari')?.count).toBe(1);
    const both = await h.app.inject({ url: `/api/v1/usage?days=7&from=${encodeURIComponent(at)}` });
    expect(both.statusCode).toBe(400);
    expect((await h.app.inject({ url: '/api/v1/usage?days=0' })).statusCode).toBe(400);
  });

  it('counts an event whose kiosk clock is implausible (1970, far future) in its receive hour', async () => {
    const recvHour = new Date(Math.floor(Date.now() / 3600_000) * 3600_000).toISOString();
    const batch = ['1970-01-01T00:00:05Z', '2099-01-01T00:00:00Z'].map((at) => ({
      id: uuid(),
      type: 'service_use',
      service: 'cek-bansos',
      at,
    }));
    expect((await post('adm-2', 'events', { events: batch })).statusCode).toBe(202);
    const counts = h.devices.usage.counts(0, Date.parse('2100-01-01'), 'hour');
    expect(counts.filter((c) => c.service === 'cek-bansos')).toEqual([
      { device_id: 'adm-2', service: 'cek-bansos', start: recvHour, count: 2 },
    ]);
  });

  it('refuses 0 and 501 events, extra fields, bad ids and wrong types with 400', async () => {
    const cases: unknown[] = [
      { events: [] },
      { events: events(501) },
      { events: events(1), extra: 1 },
      { events: [{ ...events(1)[0], nama: 'Siti' }] },
      { events: [{ id: 'not-a-uuid', type: 'service_use', service: 'ktp-el' }] },
      { events: [{ id: uuid(), type: 'login', service: 'ktp-el' }] },
      { events: [{ id: uuid(), type: 'service_use', service: '' }] },
      { events: [{ id: uuid(), type: 'service_use', service: 'x', duration_ms: -1 }] },
      [],
      [{ events: events(1) }],
    ];
    for (const body of cases) {
      const r = await post('adm-1', 'events', body);
      expect(r.statusCode, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(r.json().error).toBe('GW_ERR_VALIDATION');
    }
    expect((await post('adm-1', 'events', { events: events(500) })).statusCode).toBe(202);
    const text = await h.app.inject({
      method: 'POST',
      url: '/api/v1/devices/adm-1/events',
      headers: { ...auth('adm-1'), 'content-type': 'application/xml' },
      payload: 'events',
    });
    expect(text.statusCode).toBe(415);
  });

  it('refuses anything carrying a 16-digit number with 422 and stores nothing of it', async () => {
    const nik = '3510170101900001';
    const cases = [
      { events: [{ ...events(1)[0], service: `ktp ${nik}` }] },
      { events: [{ ...events(1)[0], nik }] },
      { events: [...events(3), { id: uuid(), type: 'service_use', service: 'akta', outcome: `x${nik}` }] },
      { events: events(1), note: { deep: [[{ kk: `KK:${nik}` }]] } },
    ];
    for (const body of cases) {
      const r = await post('adm-1', 'events', body);
      expect(r.statusCode).toBe(422);
      expect(r.json().error).toBe('GW_ERR_PII_REFUSED');
      expect(h.devices.usage.countIds(body.events.map((e) => String(e.id)))).toBe(0);
    }
    // A 15-digit run is not a NIK.
    const ok = await post('adm-1', 'events', {
      events: [{ ...events(1)[0], service: 'antrian 351017010190000' }],
    });
    expect(ok.statusCode).toBe(202);
  });

  it('answers 413 over 256 KiB', async () => {
    const big = { events: [{ ...events(1)[0], service: 'x'.repeat(300 * 1024) }] };
    const r = await post('adm-1', 'events', big);
    expect(r.statusCode).toBe(413);
    expect(r.json().error).toBe('GW_ERR_BODY_TOO_LARGE');
  });

  it('answers 401 for missing, wrong or malformed tokens, and for unknown devices too', async () => {
    const body = { events: events(1) };
    const bad = [
      {},
      { authorization: 'Bearer wrong' },
      { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` },
      { authorization: `Bearer ${auth('adm-2').authorization.slice(7)}` },
      { authorization: 'Bearer' },
      { authorization: `${auth('adm-1').authorization}x` },
    ];
    for (const headers of bad) {
      const r = await post('adm-1', 'events', body, headers as Record<string, string>);
      expect(r.statusCode).toBe(401);
      expect(r.json().error).toBe('GW_ERR_UNAUTHORIZED');
    }
    expect((await post('cam-1', 'heartbeat', {}, { authorization: 'Bearer ' })).statusCode).toBe(401);
    // An unknown id answers like a known one without its token: ids cannot be listed.
    for (const headers of [auth('adm-1'), {}]) {
      const unknown = await post('adm-9', 'events', body, headers);
      expect(unknown.statusCode).toBe(401);
      expect(unknown.json().error).toBe('GW_ERR_UNAUTHORIZED');
    }
    expect(h.devices.usage.countIds(body.events.map((e) => e.id))).toBe(0);
  });

  it('shares one fsync among concurrent requests (group commit)', async () => {
    const before = h.devices.ingest.commits;
    const rs = await Promise.all(
      Array.from({ length: 40 }, () => post('adm-2', 'events', { events: events(10) })),
    );
    expect(rs.every((r) => r.statusCode === 202)).toBe(true);
    const commits = h.devices.ingest.commits - before;
    expect(commits).toBeGreaterThanOrEqual(1);
    expect(commits).toBeLessThan(20);
  });
});

describe('metrics', () => {
  it('counts answers per route kind and status, events accepted and duplicates', () => {
    const m = h.devices.metrics();
    expect(m.events_accepted).toBeGreaterThan(0);
    expect(m.events_duplicate).toBeGreaterThan(0);
    expect(m.answers['events 202']).toBeGreaterThan(0);
    expect(m.answers['events 422']).toBeGreaterThan(0);
    expect(m.answers['events 401']).toBeGreaterThan(0);
    expect(m.devices_by_state).toEqual({ unknown: 3 });
  });
});

describe('heartbeat', () => {
  it('answers 204 with an empty body and updates the device', async () => {
    const r = await post('adm-1', 'heartbeat', {
      status: 'ok',
      app_version: '2.4.1',
      uptime_s: 3600,
      telemetry: { paper: 'ok', printer: 'ok', card_reader: 'ok', free_disk_mb: 5120, temperature_c: 48.5 },
      errors: [],
    });
    expect(r.statusCode).toBe(204);
    expect(r.body).toBe('');
    const d = await h.app.inject({ url: '/api/v1/devices/adm-1' });
    expect(d.json()).toMatchObject({
      state: 'online',
      app_version: '2.4.1',
      telemetry: { temperature_c: 48.5 },
    });
  });

  it('refuses unknown fields, non-numeric free-form telemetry, too many fields, NIK anywhere', async () => {
    const bad400 = [
      { foo: 1 },
      { telemetry: { paper: 'empty' } },
      { telemetry: { note: 'text' } },
      { telemetry: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`f${i}`, i])) },
      { errors: Array.from({ length: 21 }, () => ({ code: 'E1' })) },
    ];
    for (const body of bad400) expect((await post('adm-1', 'heartbeat', body)).statusCode).toBe(400);
    const bad422 = [
      { errors: [{ code: 'PRINT_FAIL', message: 'warga 3510170101900001 gagal cetak' }] },
      { telemetry: { f3510170101900001: 1 } },
      { app_version: '3510170101900001' },
    ];
    for (const body of bad422) expect((await post('adm-1', 'heartbeat', body)).statusCode).toBe(422);
  });
});

describe('the NIK filter (every JSON type, every written form)', () => {
  const raw = (kind: 'events' | 'heartbeat', payload: string) =>
    h.app.inject({
      method: 'POST',
      url: `/api/v1/devices/adm-1/${kind}`,
      headers: { ...auth('adm-1'), 'content-type': 'application/json' },
      payload,
    });
  const ev = (service: string) => `{"events":[{"id":"${uuid()}","type":"service_use","service":${service}}]}`;

  it('refuses a NIK sent as a JSON number instead of coercing it into an accepted string', async () => {
    const r = await raw('events', ev('3510171234560001'));
    expect(r.statusCode).toBe(422);
    expect(r.json().error).toBe('GW_ERR_PII_REFUSED');
    const hb = await raw('heartbeat', '{"errors":[{"code":3510171234560001}]}');
    expect(hb.statusCode).toBe(422);
    // A number where the schema wants a string is a type error, not a string.
    const small = await raw('events', ev('42'));
    expect(small.statusCode).toBe(400);
    expect((await raw('heartbeat', '{"errors":[{"code":42}]}')).statusCode).toBe(400);
    // Numbers written so that no 16 digits stand in a row in the text.
    for (const n of ['3.510171234560001e15', '3510171.234560001', '1e15'])
      expect((await raw('heartbeat', `{"telemetry":{"x":${n}}}`)).statusCode, n).toBe(422);
  });

  it('sees every duplicate key, escaped digits and keys', async () => {
    const cases = [
      `{"events":[{"id":"${uuid()}","type":"service_use","service":"3510171234560001","service":"akta"}]}`,
      `{"events":[{"id":"${uuid()}","type":"service_use","service":"\\u0033510171234560001"}]}`,
      `{"app_version":"1.0","app_version":"1.0","telemetry":{"x":1,"x":3510171234560001e-20}}`,
      '{"telemetry":{"3510-1712-3456-0001":1}}',
    ];
    for (const body of cases) {
      const kind = body.startsWith('{"events"') ? 'events' : 'heartbeat';
      expect((await raw(kind, body)).statusCode, body).toBe(422);
    }
  });

  it('catches the written forms: spaces, dashes, dots, slashes, invisible characters, other scripts', async () => {
    const forms = [
      '3510 1712 3456 0001',
      '3510-1712-3456-0001',
      '3510.1712.3456.0001',
      '35.10.17.123456.0001',
      '3510/1712/3456/0001',
      '3510 - 1712 - 3456 - 0001',
      '3510\u200b1712\u200c3456\u200d0001',
      '3510\u20601712\ufeff3456\u00ad0001',
      '3510\u00a01712\u20133456\u20140001',
      '\uff13\uff15\uff11\uff10171234560001',
    ];
    for (const form of forms) {
      const r = await raw('events', ev(`"KTP ${form}"`));
      expect(r.statusCode, form).toBe(422);
      expect((await raw('heartbeat', `{"errors":[{"code":"E1","message":"${form}"}]}`)).statusCode).toBe(422);
    }
  });

  it('accepts UUID ids made of digits, timestamps and version strings', async () => {
    const digits = '35101712-3456-4001-8000-000000000001';
    const r = await raw(
      'events',
      `{"events":[{"id":"${digits}","type":"service_use","service":"akta","at":"2026-11-28T10:15:30.123456+07:00"}]}`,
    );
    expect(r.statusCode).toBe(202);
    // The exemption is for the id field only: the same text elsewhere is refused.
    expect((await raw('events', ev(`"${digits}"`))).statusCode).toBe(422);
    const hb = await raw(
      'heartbeat',
      '{"app_version":"2.14.3-rc.1","uptime_s":86400,"errors":[{"code":"E1","at":"2026-11-28T10:15:30.123456+07:00","message":"gagal 2026-11-28 10:15:30 kode 12"}]}',
    );
    expect(hb.statusCode).toBe(204);
  });
});

describe('token files', () => {
  it('an unreadable token file refuses that device (401) without stopping the others', async () => {
    const { rmSync } = await import('node:fs');
    const { DeviceAuth } = await import('../../src/devices/device-auth.js');
    const devices = h.config.devices.filter((d) => d.id === 'adm-1' || d.id === 'adm-2');
    const gone = `${h.dir}/tokens/adm-2.token`;
    const copy = devices.map((d) => (d.id === 'adm-2' ? { ...d, token_file: gone } : d));
    rmSync(gone);
    const a = new DeviceAuth(copy);
    expect(a.load()).toEqual(['adm-2']);
    expect(a.check('adm-1', auth('adm-1').authorization, '10.0.0.1')).toBe('ok');
    expect(a.check('adm-2', auth('adm-2').authorization, '10.0.0.1')).toBe('bad_token');
    expect(a.check('adm-3', auth('adm-1').authorization, '10.0.0.1')).toBe('bad_token');
  });
});

describe('disk full', () => {
  it('answers 507 and stores nothing, then accepts the same ids once there is room', async () => {
    const db = h.store.db;
    const pages = (db.pragma('page_count', { simple: true }) as number) + 0;
    db.pragma(`max_page_count = ${pages}`);
    const batch = events(500).map((e) => ({ ...e, service: `surat-keterangan-${'x'.repeat(40)}` }));
    const r = await post('adm-1', 'events', { events: batch });
    expect(r.statusCode).toBe(507);
    expect(r.json().error).toBe('GW_ERR_STORE_FULL');
    db.pragma('max_page_count = 1073741823');
    expect(h.devices.usage.countIds(batch.map((e) => e.id))).toBe(0);
    const retry = await post('adm-1', 'events', { events: batch });
    expect(retry.json()).toEqual({ accepted: 500, duplicates: 0 });
  });
});
