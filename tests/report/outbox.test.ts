import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Backoff } from '../../src/report/backoff.js';
import { markHistorical } from '../../src/report/envelope.js';
import type { Sender } from '../../src/report/outbox-pump.js';
import { REPO_ROOT } from '../helpers/daemon.js';
import { sleep, waitFor } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';
import { fakeBroker, rig } from './outbox-rig.js';

const _log = pino({ level: 'silent' });

describe('outbox (real SQLite)', () => {
  const tmps: Array<{ cleanup(): void }> = [];
  const dir = () => {
    const t = tempDir('kgw-outbox-');
    tmps.push(t);
    return t.path;
  };
  afterEach(() => {
    for (const t of tmps.splice(0)) t.cleanup();
  });

  it('seq continues across reopen, row ids are never reused after the table empties', () => {
    const d = dir();
    let r = rig(d);
    for (let i = 0; i < 5; i++) r.outbox.enqueue('usage', { i });
    const ids = r.repo.after(0, Number.MAX_SAFE_INTEGER, 100).map((x) => x.id);
    for (const row of r.repo.after(0, Number.MAX_SAFE_INTEGER, 100)) r.outbox.ack(row);
    r.outbox.flushAcks();
    expect(r.outbox.depth()).toBe(0);
    r.close();
    r = rig(d);
    const env = r.outbox.enqueue('usage', { i: 5 });
    expect(env?.seq).toBe(6);
    const row = r.repo.after(0, Number.MAX_SAFE_INTEGER, 1)[0];
    expect(row?.id).toBeGreaterThan(Math.max(...ids));
    r.close();
  });

  it('after CONNACK: live rows first, then the backlog oldest first, flagged historical; window never exceeded', async () => {
    const r = rig(dir(), { window: 8 });
    for (let i = 0; i < 200; i++) r.outbox.enqueue('usage', { i });
    const b = fakeBroker(3);
    r.pump.attach(b.sender);
    r.outbox.enqueue('event', { code: 'live', severity: 'info', message: 'now' });
    r.pump.kick();
    await waitFor(() => r.outbox.depth() === 0 && b.sent.length === 201, 10_000);
    const envs = b.sent.map(
      (s) => JSON.parse(s.payload) as { seq: number; historical: boolean; data: { code?: string } },
    );
    const liveAt = envs.findIndex((e) => e.data.code === 'live');
    // The live message overtakes all but the first window of backlog.
    expect(liveAt).toBeLessThan(8);
    expect(envs[liveAt]?.historical).toBe(false);
    const backlog = envs.filter((e) => e.data.code !== 'live');
    expect(backlog.every((e) => e.historical)).toBe(true);
    expect(backlog.map((e) => e.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(b.maxInflight()).toBeLessThanOrEqual(8);
    r.close();
  });

  it('backlog drains at drain_per_s', async () => {
    const r = rig(dir(), { window: 16, drainPerS: 100 });
    for (let i = 0; i < 60; i++) r.outbox.enqueue('usage', { i });
    const b = fakeBroker(1);
    const t0 = performance.now();
    r.pump.attach(b.sender);
    await waitFor(() => b.sent.length === 60, 10_000, 5);
    const ms = performance.now() - t0;
    // 60 messages at 100/s with a 10-token bucket: about 0.5 s; well above an unpaced drain.
    expect(ms).toBeGreaterThan(400);
    expect(ms).toBeLessThan(3000);
    r.close();
  });

  it('a lost connection puts in-flight rows back: they go again after the next attach', async () => {
    const r = rig(dir(), { window: 4 });
    for (let i = 0; i < 10; i++) r.outbox.enqueue('usage', { i });
    const never: Sender = { publish: () => undefined }; // no PUBACK ever
    r.pump.attach(never);
    await sleep(20);
    r.pump.detach();
    expect(r.outbox.depth()).toBe(10);
    const b = fakeBroker(1);
    r.pump.attach(b.sender);
    await waitFor(() => r.outbox.depth() === 0, 5000);
    expect(new Set(b.sent.map((s) => JSON.parse(s.payload).seq)).size).toBe(10);
    r.close();
  });

  it('compacts health into 5-minute summaries whose payload matches the AsyncAPI schema', () => {
    let wall = Date.UTC(2026, 0, 1, 0, 0, 0);
    const r = rig(dir(), { maxBytes: 1024 * 1024, wall: () => wall });
    const health = (i: number) => ({
      gateway: { id: '3510170012', version: 't', boot: 'b', started_at: null },
      link: { verdict: i % 3 === 0 ? 'down' : 'up', fault_layer: null },
      devices: { total: 0, by_state: {}, not_online: [] },
      outbox: { depth: 0, bytes: 0, oldest_age_s: null, dropped: {}, connected: false },
      cache: { entries: 0, bytes: 0, upstreams: {} },
      system: {
        cpu_load: null,
        temperature_c: null,
        throttled: null,
        memory_used_pct: null,
        disk_used_pct: null,
        rss_mb: null,
      },
      clock: { synced: false, last_jump_s: null },
      pad: 'x'.repeat(2000),
    });
    // 60 samples a minute apart = 12 windows; the cap forces a compaction.
    for (let i = 0; i < 60; i++) {
      r.outbox.enqueue('health', health(i));
      wall += 60_000;
    }
    // Fill with usage until the cap forces the first compaction.
    let n = 0;
    while (r.repo.allOf('health').length === 60 && n < 2000) {
      r.outbox.enqueue('usage', {
        device_id: 'adm-1',
        events: [{ id: `e${n}`, type: 'service_use', service: 'x', outcome: 'y'.repeat(1500) }],
      });
      n++;
    }
    expect(n).toBeGreaterThan(300);
    expect(r.outbox.drops()).toEqual({ health: 0, usage: 0, event: 0, outage: 0 });
    const rows = r.repo.allOf('health');
    expect(rows.length).toBe(12);
    const doc = parse(readFileSync(join(REPO_ROOT, 'docs', 'asyncapi.yaml'), 'utf8'));
    const ajv = new Ajv({ strict: false });
    ajv.addSchema({ components: doc.components }, 'asyncapi');
    const validate = ajv.getSchema('asyncapi#/components/schemas/HealthMessage');
    let samples = 0;
    const folded: number[] = [];
    for (const row of rows) {
      const env = JSON.parse(row.payload);
      expect(validate?.(env), JSON.stringify(validate?.errors)).toBe(true);
      samples += env.data.summary.samples;
      folded.push(env.seq, ...env.data.summary.folded_seqs);
    }
    expect(samples).toBe(60);
    expect(folded.sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    r.close();
  });

  it('joins a caller transaction; a rollback leaves no row, no seq gap and correct counters', async () => {
    const r = rig(dir());
    r.outbox.enqueue('usage', { n: 1 });
    expect(() =>
      r.store.durable(() => {
        r.outbox.enqueue('usage', { n: 2 });
        throw new Error('producer failed after enqueue (e.g. disk full)');
      }),
    ).toThrow();
    await sleep(0);
    expect(r.outbox.depth()).toBe(1);
    expect(r.outbox.enqueue('usage', { n: 3 })?.seq).toBe(2);
    const b = fakeBroker(1);
    r.pump.attach(b.sender);
    await waitFor(() => r.outbox.depth() === 0, 5000);
    expect(b.sent.map((x) => JSON.parse(x.payload).data.n)).toEqual([1, 3]);
    r.close();
  });

  // SD budget: at the live rate a PUBACK's mark used to be a commit of its own, rewriting the
  // same leaf pages the next insert rewrites a minute later.
  it('a PUBACK counts at once but is written with the next insert (one commit); lost to a crash, the row goes again', () => {
    const d = dir();
    const r = rig(d);
    const kept = (id: number) =>
      (
        r.store.db.prepare('SELECT sent_wall FROM outbox WHERE id = ?').get(id) as {
          sent_wall: number | null;
        }
      ).sent_wall;
    const wal = () => statSync(join(d, 'gateway.db-wal')).size;
    // Keep sent rows (mqtt.resend_days), as the daemon does by default.
    (r.outbox as unknown as { d: { keepMs: number } }).d.keepMs = 7 * 86_400_000;
    r.outbox.enqueue('health', { n: 1 });
    const [first] = r.repo.after(0, Number.MAX_SAFE_INTEGER, 10);
    if (!first) throw new Error('no row');
    r.pump.detach();
    r.outbox.busy.add(first.id); // as the pump marks what it publishes
    r.outbox.enqueue('health', { n: 1.5 });
    const [, waiting] = r.repo.after(0, Number.MAX_SAFE_INTEGER, 10);
    if (!waiting) throw new Error('no second row');
    r.outbox.busy.add(waiting.id);
    r.store.db.prepare('UPDATE outbox SET created_wall = created_wall - 40000 WHERE id = ?').run(first.id);
    r.store.db.prepare('UPDATE outbox SET created_wall = created_wall - 10000 WHERE id = ?').run(waiting.id);
    expect(r.outbox.oldestAgeS()).toBeGreaterThanOrEqual(40);
    const before = wal();
    r.outbox.ack(first);
    // The oldest age skips an acknowledged row whose mark waits for the next commit: the row
    // still waiting for its PUBACK is the one 10 s old, not the acknowledged one 40 s old.
    expect(r.outbox.oldestAgeS()).toBeGreaterThanOrEqual(10);
    expect(r.outbox.oldestAgeS()).toBeLessThan(40);
    r.outbox.ack(waiting);
    expect(r.outbox.oldestAgeS()).toBeNull();
    expect(r.outbox.depth()).toBe(0);
    expect(r.outbox.sent().rows).toBe(2);
    // Nothing written for the acknowledgement itself.
    expect(wal()).toBe(before);
    expect(kept(first.id)).toBeNull();
    // Busy until written: the pump never sends it twice.
    expect(r.outbox.busy.has(first.id)).toBe(true);
    r.outbox.enqueue('health', { n: 2 });
    expect(kept(first.id)).not.toBeNull();
    expect(r.outbox.busy.has(first.id)).toBe(false);
    expect(r.outbox.depth()).toBe(1);

    // A crash before the write: after restart the acknowledged row is unsent again and goes
    // once more (the regency keeps the first copy by id).
    const [second] = r.repo.after(first.id, Number.MAX_SAFE_INTEGER, 10);
    if (!second) throw new Error('no second row');
    r.outbox.busy.add(second.id);
    r.outbox.ack(second);
    expect(r.outbox.depth()).toBe(0);
    r.scheduler.stop();
    r.store.stop(); // as kill -9: no stop(), no flush
    const again = rig(d);
    expect(again.outbox.depth()).toBe(1);
    expect(again.repo.after(0, Number.MAX_SAFE_INTEGER, 10).map((x) => x.id)).toEqual([second.id]);
    again.close();
  });

  it('a commit that fails after writing waiting acknowledgements puts them back: still busy, still unsent, counted once', () => {
    const d = dir();
    const r = rig(d);
    (r.outbox as unknown as { d: { keepMs: number } }).d.keepMs = 7 * 86_400_000;
    r.pump.detach();
    r.outbox.enqueue('usage', { n: 1 });
    const [row] = r.repo.after(0, Number.MAX_SAFE_INTEGER, 10);
    if (!row) throw new Error('no row');
    r.outbox.busy.add(row.id);
    r.outbox.ack(row);
    expect(r.outbox.depth()).toBe(0);
    // An insert that throws inside the commit (as a full disk would): the whole commit rolls back.
    expect(() => r.outbox.enqueue('usage', { n: 10n })).toThrow();
    expect(r.outbox.busy.has(row.id)).toBe(true);
    expect(r.repo.after(0, Number.MAX_SAFE_INTEGER, 10).map((x) => x.id)).toEqual([row.id]);
    expect(r.outbox.depth()).toBe(0);
    expect(r.outbox.sent().rows).toBe(1);
    // The next good commit writes it.
    r.outbox.enqueue('usage', { n: 2 });
    expect(r.outbox.busy.has(row.id)).toBe(false);
    expect(r.repo.after(0, Number.MAX_SAFE_INTEGER, 10).map((x) => x.id)).not.toContain(row.id);
    expect(r.outbox.depth()).toBe(1);
    expect(r.outbox.sent().rows).toBe(1);
    r.close();
  });

  it('markHistorical flips only the envelope flag', () => {
    const p =
      '{"v":1,"gw":"1","boot":"b","seq":1,"id":"i","ts":"t","clock_synced":false,"historical":false,"data":{"historical":false}}';
    expect(JSON.parse(markHistorical(p))).toMatchObject({ historical: true, data: { historical: false } });
  });
});

describe('backoff and redaction', () => {
  it('full jitter stays under min(cap, base * 2^n) and reaches the cap', () => {
    const b = new Backoff({ baseMs: 1000, capMs: 300_000, random: () => 0.999999 });
    const waits = Array.from({ length: 12 }, () => b.next());
    expect(waits.slice(0, 4)).toEqual([999, 1999, 3999, 7999]);
    expect(Math.max(...waits)).toBeLessThan(300_000);
    expect(waits.at(-1)).toBeGreaterThan(299_000);
    const r = new Backoff({ baseMs: 1000, capMs: 300_000, random: () => 0 });
    expect(r.next()).toBe(0);
  });
});
