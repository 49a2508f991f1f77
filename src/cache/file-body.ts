import type { FileHandle } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';

const CHUNK = 64 * 1024;
const POOL = 4;

/**
 * A stored body file (already checked) as a stream of bytes [start, end]. As a Readable it works
 * wherever a stream does; pumpTo() is how /svc sends it: through a pool of four 64 KiB buffers,
 * each reused once the socket has written it. A fs.ReadStream allocates a fresh buffer per
 * chunk, and V8 collects those only when their total is large: a 50 MB PDF grew the daemon by
 * ~35 MiB that way; pumped, it costs the pool.
 */
export class FileBody extends Readable {
  private readonly fh: FileHandle;
  private pos: number;
  private readonly last: number;
  private released = false;

  constructor(fh: FileHandle, start: number, end: number) {
    super({ highWaterMark: CHUNK });
    this.fh = fh;
    this.pos = start;
    this.last = end;
  }

  override _read(size: number): void {
    const n = Math.min(size, CHUNK, this.last - this.pos + 1);
    if (n <= 0) {
      this.push(null);
      return;
    }
    this.fh.read(Buffer.allocUnsafe(n), 0, n, this.pos).then(
      ({ bytesRead, buffer }) => {
        this.pos += bytesRead;
        if (bytesRead === 0) this.destroy(new Error('stored body shorter than recorded'));
        else this.push(buffer.subarray(0, bytesRead));
      },
      (err: Error) => this.destroy(err),
    );
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.release().then(
      () => cb(err),
      () => cb(err),
    );
  }

  /** Writes the bytes to res and ends it; resolves when done or when res went away (file closed either way). */
  async pumpTo(res: ServerResponse): Promise<void> {
    const free: Buffer[] = Array.from({ length: POOL }, () => Buffer.allocUnsafeSlow(CHUNK));
    let wake: (() => void) | undefined;
    // Set when write() says the socket buffer is full, cleared by its 'drain'.
    let full = false;
    const drained = () => {
      full = false;
      settle();
    };
    const settle = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    const gone = () => res.destroyed || res.writableEnded;
    res.on('drain', drained);
    res.on('close', settle);
    try {
      while (this.pos <= this.last && !gone()) {
        const buf = free.pop();
        if (!buf || full) {
          if (buf) free.push(buf);
          await new Promise<void>((r) => {
            wake = r;
          });
          continue;
        }
        const { bytesRead } = await this.fh.read(buf, 0, Math.min(CHUNK, this.last - this.pos + 1), this.pos);
        if (bytesRead === 0) {
          res.destroy(new Error('stored body shorter than recorded'));
          break;
        }
        this.pos += bytesRead;
        // The buffer goes back to the pool once the socket no longer needs it.
        const ok = res.write(buf.subarray(0, bytesRead), () => {
          free.push(buf);
          settle();
        });
        if (!ok) full = true;
      }
      if (!gone()) res.end();
    } finally {
      res.off('drain', drained);
      res.off('close', settle);
      this.destroy();
    }
  }

  private async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.fh.close();
  }
}
