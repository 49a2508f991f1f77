import { GwError } from '../core/errors.js';

export type DiskState = 'ok' | 'low' | 'full';

/**
 * Who may still write when the disk fills. Below the floor, low-value writes (raw probe
 * history, derived samples) stop so that acknowledged data keeps its room; below the
 * reserve, or once a write failed with SQLITE_FULL, new acknowledged writes are refused
 * up front (507) instead of half-written. Recovery is automatic as free space returns,
 * with a margin so the state does not flap around the floor.
 */
export class DiskGuard {
  private readonly floorBytes: number;
  private readonly reserveBytes: number;
  private current: DiskState = 'ok';
  private free: number | null = null;
  private fullSeen = false;

  constructor(options: { floorBytes: number; reserveBytes?: number }) {
    this.floorBytes = options.floorBytes;
    this.reserveBytes = options.reserveBytes ?? Math.max(512 * 1024, Math.floor(options.floorBytes / 10));
  }

  /** Low-value, re-creatable writes (raw history): only while the disk is above its floor. */
  allowLowValueWrites(): boolean {
    return this.current === 'ok';
  }

  /** Acknowledged writes: until the reserve is reached or the disk reported full. */
  canAcceptDurable(): boolean {
    return this.current !== 'full';
  }

  /** For acknowledging routes: throws GW_ERR_STORE_FULL (HTTP 507) before any write starts. */
  requireDurable(): void {
    if (!this.canAcceptDurable()) throw new GwError('GW_ERR_STORE_FULL');
  }

  state(): DiskState {
    return this.current;
  }

  freeBytes(): number | null {
    return this.free;
  }

  /** A write failed with SQLITE_FULL/ENOSPC: refuse durable writes until space returns. */
  noteFull(): void {
    this.fullSeen = true;
    this.current = 'full';
  }

  /** Feeds the latest free-space figure; returns the state after it. */
  update(freeBytes: number): DiskState {
    this.free = freeBytes;
    const margin = Math.max(this.reserveBytes, Math.floor(this.floorBytes * 0.2));
    if (freeBytes < this.reserveBytes) {
      this.current = 'full';
    } else if (this.current === 'full') {
      // Leave "full" only once there is clearly room again, then fall through the rest.
      if (freeBytes >= this.reserveBytes * 2) {
        this.fullSeen = false;
        this.current = freeBytes >= this.floorBytes + margin ? 'ok' : 'low';
      }
    } else if (freeBytes < this.floorBytes) {
      this.current = 'low';
    } else if (this.current === 'low' && freeBytes >= this.floorBytes + margin) {
      this.current = 'ok';
    }
    if (this.fullSeen && this.current !== 'full') this.fullSeen = false;
    return this.current;
  }
}
