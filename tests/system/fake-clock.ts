import { FakeClock as SharedFakeClock } from '../helpers/fake-clock.js';

/** The shared fake clock, starting unsynced near 1970 as a box without an RTC does after a power cut. */
export class FakeClock extends SharedFakeClock {
  constructor(bootId = 'boot-a') {
    super({ wall: Date.parse('1970-01-01T00:10:00Z'), mono: 1_000, synced: false, kernelBootId: bootId });
  }
}
