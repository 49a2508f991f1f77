// What keeping sent envelopes (mqtt.resend_days) costs the SD card: one simulated day at the
// default intervals (a health message a minute, 300 usage and 50 event messages), each message
// stored, published, acknowledged and flushed on its own as in the daemon, kept rows pruned
// hourly; bytes written measured from /proc/self/io, with and without keeping.
// Usage: npm run build && node bench/outbox-keep.mjs
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { SystemClock } from '../dist/core/clock.js';
import { Scheduler } from '../dist/core/scheduler.js';
import { Outbox } from '../dist/report/outbox.js';
import { OutboxRepo } from '../dist/report/outbox-repo.js';
import { Topics } from '../dist/report/topics.js';
import { Store } from '../dist/store/store.js';

const log = pino({ level: 'silent' });
const DAY = 86_400_000;
const written = () => Number(/write_bytes: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? 0);
// A health payload of realistic size (~1.3 KB as JSON, 5 probes and 20 devices summarised).
const health = (i) => ({
  gateway: { id: '3510170012', version: '0.1.0', boot: 'b', started_at: new Date(0).toISOString() },
  link: { verdict: 'up', fault_layer: null, since: null, outage: null },
  devices: { total: 20, by_state: { online: 20, degraded: 0, offline: 0, unknown: 0 }, not_online: [] },
  outbox: { depth: 0, bytes: 0, oldest_age_s: null, dropped: {}, connected: true, i },
  cache: { entries: 120, bytes: 4_000_000, upstreams: { layanan: { hits: 1, misses: 2, stale: 0 } } },
  system: { cpu_load: 0.2, temperature_c: 51.2, throttled: false, memory_used_pct: 40, disk_used_pct: 12 },
  clock: { synced: true, last_jump_s: null },
  pad: 'x'.repeat(700),
});

function day(keepDays) {
  const dir = mkdtempSync(join(tmpdir(), 'kgw-keep-'));
  const clock = new SystemClock();
  let t = Date.UTC(2030, 0, 1);
  clock.wallMs = () => t;
  const scheduler = new Scheduler({ clock, log });
  const store = new Store({ dataDir: dir, log, clock });
  store.start();
  const repo = new OutboxRepo({ db: () => store.db });
  const outbox = new Outbox({
    store, repo, clock, scheduler, log, topics: new Topics('kampung/v1', '3510170012'),
    gw: '3510170012', boot: 'b', maxBytes: 64 * 1024 * 1024, keepMs: keepDays * DAY, onChange() {},
  });
  outbox.start();
  const one = (cls, data) => {
    outbox.enqueue(cls, data);
    const row = repo.after(outbox.lastId - 1, outbox.lastId, 1)[0];
    if (row) outbox.ack(row);
    outbox.flushAcks();
  };
  // A week first, so the kept table is at its steady size, then the measured day.
  let measured = 0;
  for (let d = 0; d < 8; d++) {
    const before = written();
    for (let m = 0; m < 1440; m++) {
      t += 60_000;
      one('health', health(m));
      if (m % 5 === 0) one('usage', { device_id: 'adm-1', events: [{ service: 'ktp', n: m }] });
      if (m % 29 === 0) one('event', { code: 'link_changed', severity: 'info', message: 'x' });
      if (m % 60 === 59) outbox.pruneSent();
    }
    store.db.pragma('wal_checkpoint(TRUNCATE)');
    if (d === 7) measured = written() - before;
  }
  const kept = outbox.sent();
  scheduler.stop();
  store.stop();
  rmSync(dir, { recursive: true, force: true });
  return { measured, kept };
}

const off = day(0);
const on = day(7);
console.log(JSON.stringify({
  per_day_mb_without: +(off.measured / 1e6).toFixed(2),
  per_day_mb_with_resend_days_7: +(on.measured / 1e6).toFixed(2),
  extra_mb_per_day: +((on.measured - off.measured) / 1e6).toFixed(2),
  kept_rows: on.kept.rows,
  kept_mb: +(on.kept.bytes / 1e6).toFixed(2),
}));
