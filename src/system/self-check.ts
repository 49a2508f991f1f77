import { statfs } from 'node:fs/promises';
import type { Clock } from '../core/clock.js';
import type { Operation } from '../modules/operations.js';
import type { Store } from '../store/store.js';

/** The box's own quick check on the page: database, disk of the data dir, clock, memory. */
export function selfCheck(d: { store: Store; clock: Clock; dataDir: string }): Operation {
  return {
    name: 'self-check',
    page: 'diagnostic',
    description: 'database, data disk, clock and memory of the box',
    timeoutMs: 10_000,
    run: async ({ progress }) => {
      const db = safe(() => d.store.ping());
      progress({ check: 'database', ok: db });
      const fs = await statfs(d.dataDir).catch(() => undefined);
      const freeMb = fs ? Math.round((fs.bavail * fs.bsize) / 1048576) : null;
      const diskOk = freeMb !== null && freeMb > 100;
      progress({ check: 'disk', ok: diskOk, free_mb: freeMb });
      const synced = d.clock.synced();
      progress({ check: 'clock', ok: synced });
      const rssMb = Math.round(process.memoryUsage.rss() / 1048576);
      progress({ check: 'memory', ok: rssMb < 120, rss_mb: rssMb });
      return { database: db, disk_free_mb: freeMb, clock_synced: synced, rss_mb: rssMb, ok: db && diskOk };
    },
  };
}

function safe(fn: () => boolean): boolean {
  try {
    return fn();
  } catch {
    return false;
  }
}
