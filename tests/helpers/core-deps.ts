import { join } from 'node:path';
import { Bus } from '../../src/core/bus.js';
import type { Clock } from '../../src/core/clock.js';
import { createLogger, type Logger } from '../../src/core/logger.js';
import { Scheduler } from '../../src/core/scheduler.js';
import type { GatewayBus, GatewayEvents } from '../../src/events.js';
import { LiveSnapshot } from '../../src/store/live-snapshot.js';
import { StateRepo } from '../../src/store/state-repo.js';
import { Store } from '../../src/store/store.js';
import { WriteTick } from '../../src/store/write-tick.js';
import { FakeClock } from './fake-clock.js';

export interface CoreDeps {
  clock: Clock;
  log: Logger;
  scheduler: Scheduler;
  store: Store;
  bus: GatewayBus;
  /** The live status snapshot in <dataDir>/run, the database as its fallback. */
  state: LiveSnapshot;
  /** The one periodic commit, as app.ts builds it (not started: tests call run()). */
  writeTick: WriteTick;
  /** Stops the scheduler and closes the store (idempotent). */
  stop(): void;
}

/**
 * The deps every service takes, wired as app.ts wires them: a real SQLite store in `dataDir`
 * (started), a scheduler on the given clock (the one fake clock by default) and a bus whose
 * failing listener fails the test (pass `onListenerError` to collect instead).
 */
export function coreDeps(
  dataDir: string,
  opts: {
    clock?: Clock;
    log?: Logger;
    onListenerError?: (event: string, err: unknown) => void;
  } = {},
): CoreDeps {
  const clock = opts.clock ?? new FakeClock();
  const log = opts.log ?? createLogger({ level: 'fatal' });
  const scheduler = new Scheduler({ clock, log });
  const store = new Store({ dataDir, log, clock });
  const bus: GatewayBus = new Bus<GatewayEvents>(
    opts.onListenerError ??
      ((event, err) => {
        throw new Error(`listener for ${String(event)} failed: ${String(err)}`);
      }),
  );
  store.start();
  // As app.ts wires it, with the runtime directory a checkout gets: <data_dir>/run.
  const state = new LiveSnapshot({
    dir: join(dataDir, 'run'),
    log,
    fallback: new StateRepo({ db: () => store.db }),
  });
  let stopped = false;
  return {
    clock,
    log,
    scheduler,
    store,
    bus,
    state,
    writeTick: new WriteTick({ store, scheduler, log }),
    stop: () => {
      if (stopped) return;
      stopped = true;
      scheduler.stop();
      store.stop();
    },
  };
}
