import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { GwError } from '../core/errors.js';
import { fsyncDir, writeDurable } from './durable-fs.js';

/**
 * The steps an upgrade records, in order. Each is written (fsync'd) once its action is done, so
 * after a kill -9 or a power cut the journal names the last step that is certainly complete;
 * every action is idempotent, so `upgrade --resume` redoes the next one.
 *   verified     the bundle checked and unpacked beside the releases (nothing on the box changed)
 *   snapshotted  database (VACUUM INTO) and config copied to upgrade/snapshot
 *   unpacked     the new release is releases/<version>
 *   flipped      current -> the new release, previous -> the old one
 *   restarted    the service was restarted on the new release
 *   committed    healthy: the upgrade stands (pruning and clean-up may be left)
 *   rolling-back the new release failed; `restore` says whether the snapshot goes back
 *   rolled-back  current -> the old release again, which was started
 */
export const STEPS = [
  'verified',
  'snapshotted',
  'unpacked',
  'flipped',
  'restarted',
  'committed',
  'rolling-back',
  'rolled-back',
] as const;
export type Step = (typeof STEPS)[number];

export interface Journal {
  v: 1;
  step: Step;
  /** The release current pointed at before ("releases/0.1.0"). */
  from: string;
  /** What previous pointed at before, restored on a rollback (null: there was none). */
  fromPrevious: string | null;
  /** The release being installed ("releases/0.2.0") and its version. */
  to: string;
  version: string;
  bundle: string;
  sha256?: string;
  /** The old version answered /healthz with `mqtt: true`: the new one must connect too. */
  mqttBefore?: boolean;
  /** The database's schema version (PRAGMA user_version) in the snapshot; null: no database. */
  snapshotSchema?: number | null;
  /** Set with rolling-back: the snapshot replaces the database (the new version migrated it). */
  restore?: boolean;
  /** Why it is rolling back. */
  reason?: string;
  /** Set with rolled-back: the old version answered /healthz again. */
  oldHealthy?: boolean;
  startedAt: string;
}

/** The upgrade's folder: its journal, its lock, its snapshot and the unpacking area. */
export class UpgradeDir {
  readonly dir: string;
  constructor(appDir: string) {
    this.dir = join(appDir, 'upgrade');
  }
  get journalPath(): string {
    return join(this.dir, 'journal.json');
  }
  get lockPath(): string {
    return join(this.dir, 'lock');
  }
  get snapshotDir(): string {
    return join(this.dir, 'snapshot');
  }
  get stageDir(): string {
    return join(this.dir, 'stage');
  }
  get resultPath(): string {
    return join(this.dir, 'last-result.json');
  }

  ensure(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o755 });
  }

  read(): Journal | undefined {
    if (!existsSync(this.journalPath)) return undefined;
    const j = JSON.parse(readFileSync(this.journalPath, 'utf8')) as Journal;
    if (j.v !== 1 || !(STEPS as readonly string[]).includes(j.step))
      throw new GwError('GW_ERR_UPGRADE_FAILED', `unreadable upgrade journal ${this.journalPath}`);
    return j;
  }

  write(j: Journal): void {
    writeDurable(this.journalPath, `${JSON.stringify(j, null, 2)}\n`);
  }

  clear(): void {
    rmSync(this.journalPath, { force: true });
    fsyncDir(this.dir);
  }

  /**
   * One upgrader at a time: the lock file holds the owner's pid. A lock whose process is gone
   * (killed) is taken over. Returns the release function, or undefined when another runs.
   */
  tryLock(): (() => void) | undefined {
    this.ensure();
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(this.lockPath, 'wx', 0o644);
        writeSync(fd, `${process.pid}\n`);
        closeSync(fd);
        return () => rmSync(this.lockPath, { force: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const pid = Number.parseInt(readFileSync(this.lockPath, 'utf8'), 10);
        if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) return undefined;
        rmSync(this.lockPath, { force: true });
      }
    }
    return undefined;
  }
}

/** True while pid runs (a zombie, exited but not yet reaped, counts as gone). */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
