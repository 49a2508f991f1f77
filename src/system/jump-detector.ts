/**
 * Detects wall-clock jumps: between two observations the wall clock should advance as much
 * as the monotonic clock. A difference beyond the threshold is a jump (NTP step, RTC-less
 * boot fixing itself, someone running `date -s`), reported in seconds, signed.
 */
export class JumpDetector {
  private readonly thresholdMs: number;
  private prev: { wall: number; mono: number } | undefined;

  constructor(thresholdMs: number) {
    this.thresholdMs = thresholdMs;
  }

  /** Returns the jump in seconds (positive = forward), or null when the clocks agree. */
  observe(wallMs: number, monoMs: number): number | null {
    const prev = this.prev;
    this.prev = { wall: wallMs, mono: monoMs };
    if (!prev) return null;
    const drift = wallMs - prev.wall - (monoMs - prev.mono);
    return Math.abs(drift) >= this.thresholdMs ? Math.round(drift / 100) / 10 : null;
  }
}
