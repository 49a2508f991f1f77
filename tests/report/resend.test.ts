import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SystemClock } from '../../src/core/clock.js';
import { Scheduler } from '../../src/core/scheduler.js';
import { CommandError } from '../../src/report/commands.js';
import { Outbox } from '../../src/report/outbox.js';
import { OutboxPump, type Sender } from '../../src/report/outbox-pump.js';
import { OutboxRepo } from '../../src/report/outbox-repo.js';
import { parseResendRanges } from '../../src/report/resend-args.js';
import { resendSeqs } from '../../src/report/resend-command.js';
import { Topics } from '../../src/report/topics.js';
import { Store } from '../../src/store/store.js';
import { waitFor } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';

const log = pino({ level: 'silent' });
const DAY = 86_400_000;

/** A real Store, Outbox and pump as ReportService wires them, keeping sent rows `keepMs`. */
function rig(dir: string, opts: { keepMs?: number; maxBytes?: number; drainPerS?: number } = {}) {
  const clock = new SystemClock();
  let shift = 0;
  const wall = clock.wallMs.bind(clock);
  clock.wallMs = () => wall() + shift;
  const scheduler = new Scheduler({ clock, log });
  const store = new Store({ dataDir: dir, log, clock });
  store.start();
  const repo = new OutboxRepo({ db: () => store.db });
  const outbox = new Outbox({
    store,
    repo,
    clock,
    scheduler,
    log,
    topics: new Topics('kampung/v1', '3510170012'),
    gw: '3510170012',
    boot: 'boot-1',
    maxBytes: opts.maxBytes ?? 64 * 1024 * 1024,
    keepMs: opts.keepMs ?? 7 * DAY,
    onChange: () => undefined,
  });
  outbox.start();
  const pump = new OutboxPump({
    outbox,
    repo,
    clock,
    scheduler,
    log,
    window: 8,
    drainPerS: opts.drainPerS ?? 100000,
  });
  const sent: string[] = [];
  const sender: Sender = {
    publish(_t, payload, done) {
      sent.push(payload);
      setTimeout(() => done(), 1);
    },
  };
  const resend = (ranges: Array<[number, number]>) =>
    resendSeqs({ repo, queue: (ids) => pump.queueResend(ids) }, ranges);
  return {
    store,
    repo,
    outbox,
    pump,
    sender,
    sent,
    resend,
    advance(ms: number) {
      shift += ms;
    },
    close() {
      pump.detach();
      outbox.stop();
      scheduler.stop();
      store.stop();
    },
  };
}

type Env = { seq: number; id: string; historical: boolean; data: unknown };
const parse = (p: string) => JSON.parse(p) as Env;

describe('kept envelopes and resend (real SQLite)', () => {
  const tmps: Array<{ cleanup(): void }> = [];
  const dir = () => {
    const t = tempDir('kgw-resend-');
    tmps.push(t);
    return t.path;
  };
  afterEach(() => {
    for (const t of tmps.splice(0)) t.cleanup();
  });

  it('keeps an envelope after PUBACK and republishes it as sent, marked historical', async () => {
    const r = rig(dir());
    for (let i = 0; i < 10; i++) r.outbox.enqueue(i % 2 ? 'usage' : 'event', { i });
    r.pump.attach(r.sender);
    await waitFor(() => r.outbox.depth() === 0 && r.sent.length === 10);
    r.outbox.flushAcks();
    expect(r.outbox.sent()).toMatchObject({ rows: 10, shed: 0, pruned: 0 });
    expect(r.outbox.sent().bytes).toBeGreaterThan(0);
    const first = new Map(r.sent.map((p) => [parse(p).seq, p]));

    const reply = r.resend([
      [3, 4],
      [4, 5],
      [11, 12],
    ]);
    expect(reply).toEqual({ requested: 5, resent: 3, missing: [[11, 12]] });
    await waitFor(() => r.sent.length === 13);
    await waitFor(() => r.pump.resent === 3);
    for (const p of r.sent.slice(10)) {
      const e = parse(p);
      const was = parse(first.get(e.seq) as string);
      expect(e.historical).toBe(true);
      expect({ ...e, historical: null }).toEqual({ ...was, historical: null });
    }
    expect(r.pump.progress().resend_queued).toBe(0);
    // Still kept: a second request is served again.
    expect(r.resend([[1, 10]])).toEqual({ requested: 10, resent: 10, missing: [] });
    r.close();
  });

  it('a resend never holds back live messages: it goes behind them, paced', async () => {
    const r = rig(dir(), { drainPerS: 50 });
    for (let i = 0; i < 100; i++) r.outbox.enqueue('usage', { i });
    r.pump.flushNow();
    r.pump.attach(r.sender);
    await waitFor(() => r.outbox.depth() === 0 && r.sent.length === 100, 10_000);
    r.outbox.flushAcks();
    const before = r.sent.length;
    expect(r.resend([[1, 100]]).resent).toBe(100);
    r.outbox.enqueue('event', { code: 'live', severity: 'info', message: 'now' });
    r.pump.kick();
    await waitFor(() => r.sent.some((p) => (parse(p).data as { code?: string }).code === 'live'));
    const at = r.sent.findIndex((p) => (parse(p).data as { code?: string }).code === 'live');
    // Only the first paced slots of the resend went before it.
    expect(at - before).toBeLessThanOrEqual(8);
    expect(parse(r.sent[at] as string).historical).toBe(false);
    const t0 = performance.now();
    await waitFor(() => r.pump.resent === 100, 10_000);
    // Paced by drain_per_s (50/s): 100 republished take well over a second.
    expect(performance.now() - t0).toBeGreaterThan(1200);
    r.close();
  });

  it('prunes kept envelopes past resend_days in bulk; then they are missing', async () => {
    const d = dir();
    const r = rig(d, { keepMs: DAY });
    for (let i = 0; i < 20; i++) r.outbox.enqueue('usage', { i });
    r.pump.attach(r.sender);
    await waitFor(() => r.outbox.depth() === 0 && r.sent.length === 20);
    r.outbox.flushAcks();
    expect(r.outbox.pruneSent()).toBe(0);
    r.advance(DAY + 1000);
    r.outbox.enqueue('usage', { i: 20 });
    expect(r.outbox.pruneSent()).toBe(20);
    expect(r.outbox.sent()).toMatchObject({ rows: 0, bytes: 0, pruned: 20 });
    expect(r.resend([[1, 21]])).toEqual({ requested: 21, resent: 1, missing: [[1, 20]] });
    // The count survives a restart (report_counters).
    r.close();
    const again = rig(d, { keepMs: DAY });
    expect(again.outbox.sent()).toMatchObject({ rows: 0, pruned: 20 });
    again.close();
  });

  it('under outbox_max_mb, kept envelopes go first: nothing unsent is dropped while any is kept', async () => {
    const r = rig(dir(), { maxBytes: 64 * 1024 });
    const big = 'x'.repeat(900);
    for (let i = 0; i < 50; i++) r.outbox.enqueue('usage', { i, big });
    r.pump.attach(r.sender);
    await waitFor(() => r.outbox.depth() === 0 && r.sent.length === 50);
    r.outbox.flushAcks();
    r.pump.detach();
    const kept = r.outbox.sent().rows;
    expect(kept).toBe(50);
    for (let i = 0; i < 40; i++) r.outbox.enqueue('health', { i, big });
    const s = r.outbox.sent();
    expect(s.shed).toBeGreaterThan(0);
    expect(s.rows).toBe(kept - s.shed);
    expect(Object.values(r.outbox.drops()).every((n) => n === 0)).toBe(true);
    expect(r.outbox.bytes() + s.bytes).toBeLessThanOrEqual(64 * 1024);
    // The oldest went first.
    const reply = r.resend([[1, 50]]);
    expect(reply.missing[0]?.[0]).toBe(1);
    expect(reply.missing.length).toBe(1);
    r.close();
  });

  it('resend_days 0 deletes at PUBACK as before: everything sent is missing', async () => {
    const r = rig(dir(), { keepMs: 0 });
    for (let i = 0; i < 5; i++) r.outbox.enqueue('usage', { i });
    r.pump.attach(r.sender);
    await waitFor(() => r.outbox.depth() === 0 && r.sent.length === 5);
    r.outbox.flushAcks();
    expect(r.outbox.sent().rows).toBe(0);
    expect(r.store.db.prepare('SELECT COUNT(*) AS n FROM outbox').get()).toEqual({ n: 0 });
    expect(r.resend([[1, 5]])).toEqual({ requested: 5, resent: 0, missing: [[1, 5]] });
    r.close();
  });

  it('bounds its args: at most 100 ranges and 5000 seqs, well-formed pairs only', () => {
    const bad = (args: Record<string, unknown>) => {
      try {
        parseResendRanges(args);
        return 'accepted';
      } catch (err) {
        return err instanceof CommandError ? err.code : 'other';
      }
    };
    expect(bad({ ranges: [[1, 5000]] })).toBe('accepted');
    expect(bad({ ranges: [[1, 5001]] })).toBe('bad_args');
    expect(bad({ ranges: Array.from({ length: 101 }, (_, i) => [i + 1, i + 1]) })).toBe('bad_args');
    expect(bad({ ranges: [[5, 1]] })).toBe('bad_args');
    expect(bad({ ranges: [[0, 1]] })).toBe('bad_args');
    expect(bad({ ranges: [['1', 2]] })).toBe('bad_args');
    expect(bad({ ranges: [] })).toBe('bad_args');
    expect(bad({})).toBe('bad_args');
  });
});
