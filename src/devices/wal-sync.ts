import { type FileHandle, open, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * fdatasync of the SQLite WAL file on libuv's thread pool, pipelined: `sync()` resolves after
 * an fsync that STARTED after the call, so every commit made before the call is on disk.
 * Callers arriving while one fsync runs share the next one.
 *
 * Why this is as durable as synchronous=FULL: in WAL mode a commit at synchronous=NORMAL has
 * written its frames to the WAL with write(2) before it returns; FULL differs only in the
 * fsync of the WAL before returning. Checkpoints (and WAL restarts) at NORMAL still sync the
 * WAL before copying and the database after, so frames are never dropped unsynced. Doing that
 * fsync here keeps the event loop turning while the disk (an SD card: 5–50 ms) works.
 */
export class WalSync {
  private readonly walPath: string;
  private handle: FileHandle | undefined;
  private running: Promise<void> | undefined;
  private waiting: Deferred | undefined;
  private dirSynced = false;
  private count = 0;

  constructor(dbPath: string) {
    this.walPath = `${dbPath}-wal`;
  }

  /** fsyncs performed so far. */
  get syncs(): number {
    return this.count;
  }

  sync(): Promise<void> {
    this.waiting ??= deferred();
    const { promise } = this.waiting;
    if (!this.running) this.kick();
    return promise;
  }

  async close(): Promise<void> {
    while (this.running) await this.running;
    const h = this.handle;
    this.handle = undefined;
    await h?.close();
  }

  private kick(): void {
    const batch = this.waiting;
    if (!batch) return;
    this.waiting = undefined;
    this.running = this.syncOnce().then(batch.resolve, batch.reject);
    void this.running.finally(() => {
      this.running = undefined;
      this.kick();
    });
  }

  private async syncOnce(): Promise<void> {
    // The store deletes the WAL when it closes and a reopen creates a new file: never fsync
    // a stale inode.
    if (this.handle) {
      const [held, current] = await Promise.all([this.handle.stat(), stat(this.walPath)]);
      if (held.ino !== current.ino || held.dev !== current.dev) {
        await this.handle.close();
        this.handle = undefined;
      }
    }
    this.handle ??= await open(this.walPath, 'r');
    if (!this.dirSynced) {
      // The WAL's directory entry must be durable too (it was created when the store opened).
      const dir = await open(dirname(this.walPath), 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
      this.dirSynced = true;
    }
    await this.handle.datasync();
    this.count++;
  }
}
