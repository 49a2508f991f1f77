import { pino } from 'pino';
import { SystemClock } from '../../src/core/clock.js';
import { Scheduler } from '../../src/core/scheduler.js';
import { Outbox } from '../../src/report/outbox.js';
import { OutboxPump, type Sender } from '../../src/report/outbox-pump.js';
import { OutboxRepo } from '../../src/report/outbox-repo.js';
import { Topics } from '../../src/report/topics.js';
import { Store } from '../../src/store/store.js';

const log = pino({ level: 'silent' });

/** A real Store in a temp dir plus an Outbox and a pump, as ReportService wires them. */
export function rig(
  dir: string,
  opts: {
    maxBytes?: number;
    window?: number;
    drainPerS?: number;
    wall?: () => number;
    keepMs?: number;
    deferHealthMs?: number;
  } = {},
) {
  const clock = new SystemClock();
  if (opts.wall) clock.wallMs = opts.wall;
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
    ...(opts.keepMs !== undefined ? { keepMs: opts.keepMs } : {}),
    ...(opts.deferHealthMs !== undefined ? { deferHealthMs: opts.deferHealthMs } : {}),
    onChange: () => undefined,
  });
  outbox.start();
  const pump = new OutboxPump({
    outbox,
    repo,
    clock,
    scheduler,
    log,
    window: opts.window ?? 8,
    drainPerS: opts.drainPerS ?? 100000,
  });
  return {
    store,
    repo,
    outbox,
    pump,
    scheduler,
    close() {
      pump.detach();
      outbox.stop();
      scheduler.stop();
      store.stop();
    },
  };
}

/** A sender that acknowledges after a delay and records what it saw. */
export function fakeBroker(delayMs = 2) {
  const sent: Array<{ payload: string; at: number }> = [];
  let inflight = 0;
  let maxInflight = 0;
  const sender: Sender = {
    publish(_topic, payload, done) {
      sent.push({ payload, at: performance.now() });
      inflight++;
      maxInflight = Math.max(maxInflight, inflight);
      setTimeout(() => {
        inflight--;
        done();
      }, delayMs);
    },
  };
  return { sender, sent, maxInflight: () => maxInflight };
}
