/**
 * Exponential backoff with full jitter (a uniformly random wait in 0..min(cap, base * 2^n)):
 * 200 villages that lost the broker together do not come back in lockstep.
 */
export class Backoff {
  private attempt = 0;
  private readonly baseMs: number;
  private readonly capMs: number;
  private readonly random: () => number;

  constructor(opts: { baseMs: number; capMs: number; random?: () => number }) {
    this.baseMs = opts.baseMs;
    this.capMs = opts.capMs;
    this.random = opts.random ?? Math.random;
  }

  next(): number {
    const ceiling = Math.min(this.capMs, this.baseMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.floor(this.random() * ceiling);
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
