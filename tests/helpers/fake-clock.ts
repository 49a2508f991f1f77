import type { Clock } from '../../src/core/clock.js';

/** The one fake the tests use: a clock whose wall and monotonic time the test moves. */
export class FakeClock implements Clock {
  wall: number;
  mono: number;
  isSynced: boolean;
  kernelBootId: string;

  constructor(opts: { wall?: number; mono?: number; synced?: boolean; kernelBootId?: string } = {}) {
    this.wall = opts.wall ?? Date.parse('2026-11-28T03:00:00Z');
    this.mono = opts.mono ?? 1_000_000;
    this.isSynced = opts.synced ?? true;
    this.kernelBootId = opts.kernelBootId ?? '00000000-0000-4000-8000-000000000001';
  }

  wallMs(): number {
    return this.wall;
  }

  monoMs(): number {
    return this.mono;
  }

  synced(): boolean {
    return this.isSynced;
  }

  /** Both clocks move together, as on a box whose wall clock does not jump. */
  advance(ms: number): void {
    this.wall += ms;
    this.mono += ms;
  }
}
