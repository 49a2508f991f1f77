import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';
import type { ClockSyncSource } from './clock.js';
import { findOnPath } from './find-on-path.js';

export type SyncSourceName = 'timesyncd' | 'chrony' | 'none';

export interface ClockSyncState {
  synced: boolean;
  source: SyncSourceName;
}

/** systemd-timesyncd creates this file once it has synchronised (systemd >= 239). */
export const TIMESYNCD_FLAG = '/run/systemd/timesync/synchronized';

/**
 * Reads whether the kernel clock is NTP-synchronised, from timesyncd's flag file or chrony's
 * tracking report. Polled by the scheduler; `synced()` only returns the last answer, so
 * callers on hot paths never do I/O.
 */
export class ClockSyncChecker implements ClockSyncSource {
  private state: ClockSyncState = { synced: false, source: 'none' };
  private readonly flagFile: string;
  private readonly chronyc: string;

  constructor(options: { flagFile?: string; chronyc?: string } = {}) {
    this.flagFile = options.flagFile ?? TIMESYNCD_FLAG;
    this.chronyc = options.chronyc ?? 'chronyc';
  }

  synced(): boolean {
    return this.state.synced;
  }

  current(): ClockSyncState {
    return this.state;
  }

  async check(signal?: AbortSignal): Promise<ClockSyncState> {
    if (await exists(this.flagFile)) {
      this.state = { synced: true, source: 'timesyncd' };
      return this.state;
    }
    // Most boxes run timesyncd and have no chronyc: look before forking one every poll.
    const chronyc = await findOnPath(this.chronyc);
    const leap = chronyc === null ? undefined : await chronyLeapStatus(chronyc, signal);
    if (leap !== undefined) {
      this.state = { synced: leap === 'Normal', source: 'chrony' };
      return this.state;
    }
    this.state = { synced: false, source: 'none' };
    return this.state;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** `chronyc -c tracking` prints one CSV line; the last field is the leap status. */
export function parseChronyTracking(csv: string): string | undefined {
  const line = csv.trim().split('\n')[0];
  if (!line) return undefined;
  const fields = line.split(',');
  return fields.length >= 14 ? fields[fields.length - 1]?.trim() : undefined;
}

function chronyLeapStatus(chronyc: string, signal?: AbortSignal): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(chronyc, ['-c', 'tracking'], { timeout: 2000, signal }, (err, stdout) => {
      resolve(err ? undefined : parseChronyTracking(stdout));
    });
  });
}
