import { closeSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { GwError } from '../../core/errors.js';

/** The lock file in the provisioning output folder. */
export const OUT_LOCK = 'provision.lock';
const POLL_MS = 50;
const WAIT_MS = 60_000;
/** A lock file without a pid (killed between creating and writing it) is stale after this. */
const EMPTY_STALE_MS = 10_000;

function monoMs(): number {
  return Number(process.hrtime.bigint() / 1_000_000n);
}

/** When the process started (clock ticks since boot, /proc): tells a reused pid apart. */
function startOf(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

/** Whether the process that wrote `pid start` still runs (not a later one given the same pid). */
function alive(pid: number, start: string | undefined): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = startOf(pid);
  return !start || !now || now === start;
}

/** What the lock file holds when its holder is gone; undefined when it is held (or gone already). */
function staleContent(file: string): string | undefined {
  let text: string;
  let mtimeMs: number;
  try {
    text = readFileSync(file, 'utf8');
    mtimeMs = statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
  const [pidText, start] = text.trim().split(' ');
  const pid = Number(pidText);
  if (Number.isInteger(pid) && pid > 0) return alive(pid, start) ? undefined : text;
  return Date.now() - mtimeMs > EMPTY_STALE_MS ? text : undefined;
}

/**
 * Runs `fn` holding the output folder's lock: one provisioning process at a time (provision,
 * confirm, revoke, the sweeper's passes) reads the store, stages bundles and writes the broker
 * files, so none drops another's staged bundle or writes files from a stale read. The lock is
 * a file created exclusively with the holder's pid and start time; one whose process is gone
 * (dead, or its pid reused, as PID 1 in a restarted container) is taken over. Waits
 * up to a minute for a live holder, then fails with GW_ERR_PROVISION_BUSY.
 */
export async function withOutLock<T>(out: string, fn: () => Promise<T>): Promise<T> {
  const file = join(out, OUT_LOCK);
  const deadline = monoMs() + WAIT_MS;
  for (;;) {
    let fd: number | undefined;
    try {
      fd = openSync(file, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (fd !== undefined) {
      try {
        writeSync(fd, `${process.pid} ${startOf(process.pid)}\n`);
      } finally {
        closeSync(fd);
      }
      try {
        return await fn();
      } finally {
        rmSync(file, { force: true });
      }
    }
    const stale = staleContent(file);
    // Taken over only while it still holds what was judged stale.
    if (stale !== undefined && staleContent(file) === stale) {
      rmSync(file, { force: true });
      continue;
    }
    if (monoMs() > deadline)
      throw new GwError('GW_ERR_PROVISION_BUSY', `another provisioning run holds ${file}`);
    await sleep(POLL_MS);
  }
}
