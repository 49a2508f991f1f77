import { sql } from 'kysely';
import type { Service } from '../../core/service.js';
import { defineRegencyModule } from './contract.js';

/** Whether the store answers, as /healthz reports it. */
export interface StoreHealth {
  ok(): boolean;
  /** Asks the store now (SELECT 1) and remembers the answer. */
  ping(): Promise<boolean>;
  /** A batch was committed: the store answers. */
  committed(): void;
}

declare module './contract.js' {
  interface RegencyProvides {
    store: StoreHealth;
  }
}

/**
 * The store's health: pinged every 10 s and after a failed commit, marked good by every
 * commit. Listed first: its stop stops the scheduler, after every other service has stopped.
 */
export const storeModule = defineRegencyModule({
  name: 'store',
  slice: () => ({}),
  build: ({ deps }) => {
    const { db } = deps.store;
    let ok = true;
    const ping = async () => {
      try {
        await sql`SELECT 1`.execute(db);
        ok = true;
      } catch {
        ok = false;
      }
      return ok;
    };
    const watch: Service = {
      name: 'db-watch',
      start: () => {
        deps.scheduler.every({ name: 'db-ping', intervalMs: 10_000, coarse: true, run: () => void ping() });
      },
      stop: () => deps.scheduler.stop(),
    };
    return {
      provides: {
        ok: () => ok,
        ping,
        committed: () => {
          ok = true;
        },
      },
      services: [watch],
    };
  },
});
