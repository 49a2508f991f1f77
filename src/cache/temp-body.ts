import { createHash, randomBytes } from 'node:crypto';
import { renameSync, rmSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';

/** How a streamed body ended: checked into its temp file, or in memory because the disk failed. */
export type Spilled = { kind: 'file'; sha256: string; size: number } | { kind: 'memory'; body: Buffer };

/**
 * An upstream body written to a temp file in the cache directory as it arrives, hashed on the
 * way, so a large MISS never sits whole in memory. The name ends in `.tmp`: a crash (kill -9,
 * power cut) leaves at most a temp file, which the start sweep removes; nothing references it.
 *
 * Writes are asynchronous (an SD card can stall for hundreds of ms; the event loop must keep
 * answering other kiosks meanwhile) and chained in socket order. write() returns the promise of
 * the chain: the upstream client pauses the response until it settles, so a fast upstream and a
 * slow card never pile chunks up in memory (backpressure). A failing disk (ENOSPC) does not
 * cost the kiosk its answer: what was written is read back and the rest is kept in memory.
 */
export class TempBody {
  readonly path: string;
  private fh: FileHandle | undefined;
  private readonly hash = createHash('sha256');
  private size = 0;
  private written = 0;
  private memory: Buffer[] | undefined;
  private tail: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(dir: string) {
    this.path = join(dir, `.${randomBytes(8).toString('hex')}.tmp`);
  }

  /** Queues a chunk; the promise settles when it (and every chunk before it) is on disk or in memory. */
  write(chunk: Buffer): Promise<void> {
    this.hash.update(chunk);
    this.size += chunk.length;
    this.tail = this.tail.then(() => this.put(chunk));
    return this.tail;
  }

  /** The body is complete: fsync'd in its temp file (still open), or in memory. */
  async finish(): Promise<Spilled> {
    await this.tail;
    if (!this.memory) {
      try {
        this.fh ??= await open(this.path, 'wx+', 0o640);
        await this.fh.sync();
        return { kind: 'file', sha256: this.hash.digest('hex'), size: this.size };
      } catch {
        this.memory = await this.toMemory(this.written);
      }
    }
    return { kind: 'memory', body: Buffer.concat(this.memory, this.size) };
  }

  /** Renames the finished file to its final name; the handle stays open for readAll() until close(). */
  commit(finalPath: string): void {
    renameSync(this.path, finalPath);
  }

  /** The whole body read back through the open handle (works even after a rename or unlink). */
  async readAll(): Promise<Buffer> {
    if (this.memory) return Buffer.concat(this.memory, this.size);
    const buf = Buffer.allocUnsafe(this.size);
    let off = 0;
    while (off < this.size && this.fh) {
      const { bytesRead } = await this.fh.read(buf, off, this.size - off, off);
      if (bytesRead === 0) throw new Error('temp body shorter than written');
      off += bytesRead;
    }
    return buf;
  }

  /**
   * Closes the handle and removes the temp file if it was not committed. Safe to call twice and
   * while writes are pending (they are dropped: an aborted body is never kept).
   */
  close(): void {
    this.closed = true;
    const fh = this.fh;
    this.fh = undefined;
    rmSync(this.path, { force: true });
    // Closed after pending writes settled (they fail fast once the handle is closed).
    void this.tail.finally(() => fh?.close()).catch(() => undefined);
  }

  private async put(chunk: Buffer): Promise<void> {
    if (this.closed) return;
    if (this.memory) {
      this.memory.push(chunk);
      return;
    }
    try {
      this.fh ??= await open(this.path, 'wx+', 0o640);
      let off = 0;
      while (off < chunk.length) {
        const { bytesWritten } = await this.fh.write(chunk, off, chunk.length - off, this.written + off);
        off += bytesWritten;
      }
      this.written += chunk.length;
    } catch {
      if (this.closed) return;
      this.memory = await this.toMemory(this.written);
      this.memory.push(chunk);
    }
  }

  private async toMemory(written: number): Promise<Buffer[]> {
    const prefix = Buffer.allocUnsafe(written);
    let off = 0;
    try {
      while (off < written && this.fh) {
        const { bytesRead } = await this.fh.read(prefix, off, written - off, off);
        if (bytesRead === 0) break;
        off += bytesRead;
      }
    } catch {
      // Unreadable too: the bytes are lost; the length check below refuses the body.
    }
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close().catch(() => undefined);
    rmSync(this.path, { force: true });
    if (off < written) throw new Error('cache disk failed mid-body and the written part is unreadable');
    return [prefix];
  }
}
