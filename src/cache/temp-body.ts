import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** How a streamed body ended: checked into its temp file, or in memory because the disk failed. */
export type Spilled = { kind: 'file'; sha256: string; size: number } | { kind: 'memory'; body: Buffer };

/**
 * An upstream body written to a temp file in the cache directory as it arrives, hashed on the
 * way, so a large MISS never sits whole in memory. The name ends in `.tmp`: a crash (kill -9,
 * power cut) leaves at most a temp file, which the start sweep removes; nothing references it.
 *
 * Writes are synchronous, like BodyFiles.write: one upstream chunk (≤ 64 KiB) at a time, and the
 * order of chunks is the order of the socket. A failing disk (ENOSPC) does not cost the kiosk
 * its answer: what was written is read back and the rest is kept in memory, as before this file.
 */
export class TempBody {
  readonly path: string;
  private fd: number | undefined;
  private readonly hash = createHash('sha256');
  private size = 0;
  private memory: Buffer[] | undefined;

  constructor(dir: string) {
    this.path = join(dir, `.${randomBytes(8).toString('hex')}.tmp`);
  }

  write(chunk: Buffer): void {
    this.hash.update(chunk);
    const before = this.size;
    this.size += chunk.length;
    if (this.memory) {
      this.memory.push(chunk);
      return;
    }
    try {
      this.fd ??= openSync(this.path, 'wx+', 0o640);
      let off = 0;
      while (off < chunk.length) off += writeSync(this.fd, chunk, off, chunk.length - off, before + off);
    } catch {
      this.memory = this.toMemory(before);
      this.memory.push(chunk);
    }
  }

  /** The body is complete: fsync'd in its temp file (still open), or in memory. */
  finish(): Spilled {
    if (!this.memory) {
      try {
        if (this.fd === undefined) this.fd = openSync(this.path, 'wx+', 0o640);
        fsyncSync(this.fd);
        return { kind: 'file', sha256: this.hash.digest('hex'), size: this.size };
      } catch {
        this.memory = this.toMemory(this.size);
      }
    }
    return { kind: 'memory', body: Buffer.concat(this.memory, this.size) };
  }

  /** Renames the finished file to its final name; the handle stays open for readAll() until close(). */
  commit(finalPath: string): void {
    renameSync(this.path, finalPath);
  }

  /** The whole body read back through the open handle (works even after a rename or unlink). */
  readAll(): Buffer {
    if (this.memory) return Buffer.concat(this.memory, this.size);
    const buf = Buffer.allocUnsafe(this.size);
    let off = 0;
    while (off < this.size && this.fd !== undefined) {
      const n = readSync(this.fd, buf, off, this.size - off, off);
      if (n === 0) throw new Error('temp body shorter than written');
      off += n;
    }
    return buf;
  }

  /** Closes the handle and removes the temp file if it was not committed. Safe to call twice. */
  close(): void {
    if (this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
    }
    rmSync(this.path, { force: true });
  }

  private toMemory(written: number): Buffer[] {
    const prefix = Buffer.allocUnsafe(written);
    let off = 0;
    try {
      while (off < written && this.fd !== undefined) {
        const n = readSync(this.fd, prefix, off, written - off, off);
        if (n === 0) break;
        off += n;
      }
    } catch {
      // Unreadable too: the bytes are lost; the length check below refuses the body.
    }
    this.close();
    if (off < written) throw new Error('cache disk failed mid-body and the written part is unreadable');
    return [prefix];
  }
}
