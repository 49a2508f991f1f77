import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';

/** A small tmpfs (root only) standing in for a nearly full SD card. Unmount in afterAll. */
export class SmallDisk {
  readonly path: string;
  private readonly tmp = tempDir('kgw-tmpfs-');
  private fillers = 0;

  constructor(readonly sizeMb: number) {
    this.path = join(this.tmp.path, 'mnt');
  }

  mount(): void {
    mkdirSync(this.path, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${this.sizeMb}m,mode=0755`, 'tmpfs', this.path]);
  }

  freeBytes(): number {
    const s = statfsSync(this.path);
    return s.bavail * s.bsize;
  }

  /** Writes filler files until at most `leaveBytes` are free (0 = until ENOSPC). */
  fill(leaveBytes = 0): void {
    const file = join(this.path, `filler-${this.fillers++}`);
    const fd = openSync(file, 'w');
    const chunk = Buffer.alloc(64 * 1024, 1);
    try {
      for (;;) {
        const free = this.freeBytes();
        if (free <= leaveBytes) return;
        const n = Math.min(chunk.length, leaveBytes > 0 ? free - leaveBytes : chunk.length);
        writeSync(fd, chunk, 0, Math.max(1, n));
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    } finally {
      closeSync(fd);
    }
  }

  /** Frees the space the fillers took. */
  drain(): void {
    for (let i = 0; i < this.fillers; i++) rmSync(join(this.path, `filler-${i}`), { force: true });
    this.fillers = 0;
  }

  dispose(): void {
    try {
      execFileSync('umount', ['-l', this.path]);
    } catch {
      // not mounted
    }
    this.tmp.cleanup();
  }
}
