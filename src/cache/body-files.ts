import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

/**
 * Large cached bodies as files in data_dir/cache, named by their sha256 (identical bodies
 * share one file). Written tmp + fsync + rename + fsync(dir), so a power cut leaves either
 * the whole file or none; orphans from a crash are swept at start.
 */
export class BodyFiles {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  start(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o750 });
  }

  write(sha256: string, body: Buffer): void {
    const tmp = join(this.dir, `.${sha256}.${randomBytes(4).toString('hex')}.tmp`);
    const fd = openSync(tmp, 'w', 0o640);
    try {
      let off = 0;
      while (off < body.length) off += writeSync(fd, body, off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, join(this.dir, sha256));
    const dfd = openSync(this.dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  }

  /** The bytes, or undefined when the file is gone. */
  read(sha256: string): Buffer | undefined {
    try {
      return readFileSync(join(this.dir, sha256));
    } catch {
      return undefined;
    }
  }

  remove(sha256: string): void {
    rmSync(join(this.dir, sha256), { force: true });
  }

  /** Removes temp files and every file no entry references. Returns how many went. */
  sweep(referenced: ReadonlySet<string>): number {
    let removed = 0;
    for (const f of readdirSync(this.dir)) {
      if (f.endsWith('.tmp') || !referenced.has(f)) {
        rmSync(join(this.dir, f), { force: true });
        removed += 1;
      }
    }
    return removed;
  }

  removeAll(): void {
    for (const f of readdirSync(this.dir)) rmSync(join(this.dir, f), { force: true });
  }
}
