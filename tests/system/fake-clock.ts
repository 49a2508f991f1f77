import type { Clock } from '../../src/core/clock.js';

/** The one fake the style allows: a clock the test moves by hand. */
export class FakeClock implements Clock {
  wall = Date.parse('1970-01-01T00:10:00Z');
  mono = 1_000;
  isSynced = false;
  readonly kernelBootId: string;

  constructor(bootId = 'boot-a') {
    this.kernelBootId = bootId;
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
  advance(ms: number): void {
    this.wall += ms;
    this.mono += ms;
  }
}
