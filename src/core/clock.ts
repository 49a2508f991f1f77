import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * Time on a box without a real-time clock. Wall time can be 1970 after a power cut and jump
 * by years when NTP syncs; every duration, expiry and timeout therefore uses `monoMs()`
 * (CLOCK_MONOTONIC, which counts from kernel boot and never jumps). Records keep both, plus
 * the kernel boot id, so wall stamps can be repaired once the clock is trusted.
 */
export interface Clock {
  /** Wall-clock milliseconds since the epoch. Untrusted unless `synced()`. */
  wallMs(): number;
  /** Monotonic milliseconds since kernel boot. */
  monoMs(): number;
  /** The kernel's boot id: monotonic values are only comparable within one boot. */
  readonly kernelBootId: string;
  /** Whether the wall clock is known to be synchronised (NTP), per the last check. */
  synced(): boolean;
}

export interface ClockSyncSource {
  synced(): boolean;
}

export class SystemClock implements Clock {
  readonly kernelBootId: string;
  private readonly syncSource: ClockSyncSource | undefined;

  constructor(syncSource?: ClockSyncSource, kernelBootId = readKernelBootId()) {
    this.syncSource = syncSource;
    this.kernelBootId = kernelBootId;
  }

  wallMs(): number {
    return Date.now();
  }

  monoMs(): number {
    return Number(process.hrtime.bigint() / 1_000_000n);
  }

  synced(): boolean {
    return this.syncSource?.synced() ?? false;
  }
}

export function readKernelBootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    // Not Linux: a per-process id keeps "same boot" comparisons conservative.
    return randomUUID();
  }
}
