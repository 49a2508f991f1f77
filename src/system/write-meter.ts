/**
 * Bytes the daemon wrote to storage per day, from the /proc/self/io counter (which restarts
 * at 0 with the process). Days are WIB calendar days by the wall clock; when the clock is
 * wrong the bytes still land in some day, and the budget check uses the same day.
 */
export class WriteMeter {
  private lastCounter: number | null = null;
  private day: string | null = null;
  private dayBytes = 0;

  /** Seeds today's total from the ledger after a restart. */
  seed(day: string, bytes: number): void {
    this.day = day;
    this.dayBytes = bytes;
  }

  /** Feeds the current process counter; returns today's running total. */
  sample(counter: number, day: string): number {
    const delta = this.lastCounter === null || counter < this.lastCounter ? 0 : counter - this.lastCounter;
    // The first sample of a process counts everything it wrote since it started.
    const first = this.lastCounter === null ? counter : 0;
    this.lastCounter = counter;
    if (day !== this.day) {
      this.day = day;
      this.dayBytes = 0;
    }
    this.dayBytes += delta + first;
    return this.dayBytes;
  }

  today(): { day: string | null; bytes: number } {
    return { day: this.day, bytes: this.dayBytes };
  }
}
