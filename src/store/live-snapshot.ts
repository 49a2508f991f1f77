import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../core/logger.js';

/** The file in the runtime directory that holds the live status sections. */
export const SNAPSHOT_FILE = 'status.json';

/** One saved status section and the wall ms it was saved at. */
export interface SavedSection<T = unknown> {
  value: T;
  updated_wall: number;
}

/** Where a module keeps the latest value of its status section (`kampung-gw status` reads it). */
export interface SectionState {
  put(key: string, value: unknown, wallMs: number): void;
  get<T>(key: string): SavedSection<T> | undefined;
}

export interface LiveSnapshotDeps {
  /** The runtime directory (tmpfs on a box: /run/kampung-gateway). */
  dir: string;
  log: Logger;
  /**
   * Where sections go when the directory cannot be written (a box whose unit predates
   * RuntimeDirectory=): the database, as before. Also read at start, so a section saved there
   * by an older version still seeds this one.
   */
  fallback?: SectionState;
}

/**
 * The live status sections (link, devices, outbox, cache, system) as one JSON file in the
 * runtime directory, replaced atomically (written beside, then renamed) at every change. A
 * snapshot, not a record: no fsync, and on a box the directory is tmpfs, so keeping it current
 * costs the SD card nothing. It lives until the next reboot (RuntimeDirectoryPreserve=yes keeps
 * it across stops and restarts of the service). See docs/storage.md.
 */
export class LiveSnapshot implements SectionState {
  private readonly d: LiveSnapshotDeps;
  private sections: Record<string, SavedSection> | undefined;
  private failing = false;

  constructor(deps: LiveSnapshotDeps) {
    this.d = deps;
  }

  get file(): string {
    return join(this.d.dir, SNAPSHOT_FILE);
  }

  put(key: string, value: unknown, wallMs: number): void {
    const sections = this.loaded();
    // A copy: the caller's object may change after this call, the snapshot must not.
    sections[key] = { value: JSON.parse(JSON.stringify(value)) as unknown, updated_wall: wallMs };
    try {
      mkdirSync(this.d.dir, { recursive: true, mode: 0o750 });
      const tmp = `${this.file}.tmp`;
      writeFileSync(tmp, JSON.stringify({ v: 1, sections }), { mode: 0o640 });
      renameSync(tmp, this.file);
      if (this.failing) this.d.log.info({ dir: this.d.dir }, 'status snapshot written again');
      this.failing = false;
    } catch (err) {
      if (!this.failing) {
        this.d.log.warn(
          { err, dir: this.d.dir, fallback: this.d.fallback ? 'database' : 'memory' },
          'cannot write the status snapshot',
        );
      }
      this.failing = true;
      this.d.fallback?.put(key, value, wallMs);
    }
  }

  get<T>(key: string): SavedSection<T> | undefined {
    const here = this.loaded()[key] as SavedSection<T> | undefined;
    const there = this.d.fallback?.get<T>(key);
    if (!there) return here;
    return !here || there.updated_wall > here.updated_wall ? there : here;
  }

  /** The file's sections, read once on first use (constructors do no I/O). */
  private loaded(): Record<string, SavedSection> {
    this.sections ??= readLiveSnapshot(this.d.dir);
    return this.sections;
  }
}

/** The sections of the snapshot in `dir`; empty when there is none (or it cannot be read). */
export function readLiveSnapshot(dir: string): Record<string, SavedSection> {
  try {
    const parsed = JSON.parse(readFileSync(join(dir, SNAPSHOT_FILE), 'utf8')) as {
      v?: number;
      sections?: Record<string, SavedSection>;
    };
    return parsed.v === 1 && parsed.sections && typeof parsed.sections === 'object' ? parsed.sections : {};
  } catch {
    return {};
  }
}
