import { createHash, randomBytes } from 'node:crypto';
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
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { TempBody } from './temp-body.js';

const CHECK_CHUNK = 64 * 1024;

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
    this.syncDir();
  }

  /** A temp file for a body that arrives in chunks (swept at start like every `*.tmp`). */
  temp(): TempBody {
    return new TempBody(this.dir);
  }

  /** Moves a finished temp body to its sha256 name, durably (the rename itself is fsync'd). */
  adopt(temp: TempBody, sha256: string): void {
    temp.commit(join(this.dir, sha256));
    this.syncDir();
  }

  /** The bytes, or undefined when the file is gone. */
  read(sha256: string): Buffer | undefined {
    try {
      return readFileSync(join(this.dir, sha256));
    } catch {
      return undefined;
    }
  }

  /**
   * The file opened and checked (length and sha256, read in 64 KiB chunks, never whole in
   * memory), or undefined when it is gone or damaged. The caller reads it again from offset 0
   * through the same handle, so an eviction (unlink) in between cannot change what it serves.
   */
  async openChecked(sha256: string, size: number): Promise<FileHandle | undefined> {
    let fh: FileHandle;
    try {
      fh = await open(join(this.dir, sha256), 'r');
    } catch {
      return undefined;
    }
    let ok = false;
    try {
      const hash = createHash('sha256');
      const buf = Buffer.allocUnsafe(CHECK_CHUNK);
      let total = 0;
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, total);
        if (bytesRead === 0) break;
        hash.update(buf.subarray(0, bytesRead));
        total += bytesRead;
        if (total > size) break;
      }
      ok = total === size && hash.digest('hex') === sha256;
    } finally {
      if (!ok) await fh.close();
    }
    return ok ? fh : undefined;
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

  private syncDir(): void {
    const dfd = openSync(this.dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  }

  removeAll(): void {
    for (const f of readdirSync(this.dir)) rmSync(join(this.dir, f), { force: true });
  }
}
