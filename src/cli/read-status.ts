import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runDirOf } from '../config/base-schema.js';
import type { Config } from '../config/schema.js';
import { SystemClock } from '../core/clock.js';
import { ClockSyncChecker } from '../core/clock-sync.js';
import type { Logger } from '../core/logger.js';
import { emptyStatus } from '../status/defaults.js';
import type { SectionName, StatusObject } from '../status/types.js';
import { readLiveSnapshot } from '../store/live-snapshot.js';
import { RunsRepo } from '../store/runs-repo.js';
import { StateRepo } from '../store/state-repo.js';
import { DB_FILE, Store } from '../store/store.js';
import { PID_FILE } from '../system/run-service.js';

/**
 * Sections that modules keep in the live snapshot of the runtime directory under their own name
 * (or, where that directory could not be written, in `current_state`: the newer one wins).
 */
const PERSISTED: SectionName[] = ['link', 'devices', 'outbox', 'cache', 'system'];

/** Whether a daemon process holds this data dir (pid file names a live kampung-gw process). */
export function daemonPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, PID_FILE), 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    process.kill(pid, 0);
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /kampung|main\.[jt]s/.test(cmdline) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The status object as the data dir records it: works whether the daemon runs or not.
 * Read-only; never migrates or repairs anything.
 */
export async function readStatus(config: Config, version: string, log: Logger): Promise<StatusObject> {
  const status = emptyStatus(config, version);
  const checker = new ClockSyncChecker();
  const sync = await checker.check();
  status.clock = { synced: sync.synced, last_jump_s: null, source: sync.source };
  const pid = daemonPid(config.data_dir);
  status.gateway.running = pid !== undefined;
  const live = readLiveSnapshot(runDirOf(config));
  const record = status as unknown as Record<string, unknown>;
  if (!existsSync(join(config.data_dir, DB_FILE))) {
    for (const key of PERSISTED) if (live[key]) record[key] = live[key].value;
    return notConnected(status);
  }

  const clock = new SystemClock(checker);
  const store = new Store({ dataDir: config.data_dir, log, clock, readonly: true });
  store.start();
  try {
    const db = () => store.db;
    const run = new RunsRepo({ db, clock }).latest();
    if (run) {
      status.gateway.boot = run.run_id;
      status.gateway.started_at = new Date(run.started_wall).toISOString();
      status.gateway.last_alive = new Date(run.alive_wall).toISOString();
    }
    const state = new StateRepo({ db });
    for (const key of PERSISTED) {
      const here = live[key];
      const there = state.get(key);
      const saved = here && (!there || here.updated_wall >= there.updated_wall) ? here : there;
      if (saved) record[key] = saved.value;
    }
    const clockSaved = state.get<{ last_jump_s: number | null }>('clock');
    if (clockSaved) status.clock.last_jump_s = clockSaved.value.last_jump_s;
  } finally {
    store.stop();
  }
  return notConnected(status);
}

/** A daemon killed while connected left `connected: true` behind; nothing is connected now. */
function notConnected(status: StatusObject): StatusObject {
  if (!status.gateway.running) status.outbox = { ...status.outbox, connected: false };
  return status;
}
