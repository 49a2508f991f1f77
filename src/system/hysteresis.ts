/**
 * A threshold that raises at one value and clears at another, so a reading hovering around
 * the limit makes one alert, not one per sample. `null` readings (absent sensor) change
 * nothing.
 */
export class Hysteresis {
  private readonly raiseAt: number;
  private readonly clearAt: number;
  private active = false;

  constructor(raiseAt: number, clearAt: number) {
    this.raiseAt = raiseAt;
    this.clearAt = clearAt;
  }

  get raised(): boolean {
    return this.active;
  }

  update(value: number | null): 'raise' | 'clear' | null {
    if (value === null) return null;
    if (!this.active && value >= this.raiseAt) {
      this.active = true;
      return 'raise';
    }
    if (this.active && value <= this.clearAt) {
      this.active = false;
      return 'clear';
    }
    return null;
  }
}

/** A boolean condition with the same raise/clear edges. */
export class Flag {
  private active = false;

  get raised(): boolean {
    return this.active;
  }

  update(on: boolean | null): 'raise' | 'clear' | null {
    if (on === null || on === this.active) return null;
    this.active = on;
    return on ? 'raise' : 'clear';
  }
}
