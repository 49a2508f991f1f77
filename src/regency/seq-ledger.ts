/**
 * The seq accounting of one village, in memory for the span of one commit: the lowest and
 * highest seq received and the open gaps between them. A seq outside [min, max] widens the
 * span (opening a gap if it skips any); a seq inside fills the gap holding it, or, when no
 * gap holds it, was received before: `covered` (a redelivery has the same id and never gets
 * here; a new id for a covered seq is a seq reused after a power cut).
 * Below the first seq ever received nothing is a gap: the collector cannot know what a
 * village sent before it listened.
 */
export interface Gap {
  /** Row id when loaded from the store; undefined for a gap opened in this commit. */
  id?: number;
  lo: number;
  hi: number;
  openedMs: number;
  openedDay: string;
}

export interface GapChanges {
  inserted: Gap[];
  /** Loaded gaps now narrower (same row, new bounds). */
  updated: Gap[];
  /** Loaded gaps entirely filled (as they were loaded: their opening time decides repaired or not). */
  filled: Gap[];
}

export class SeqLedger {
  min: number | null;
  max: number | null;
  private readonly gaps: Gap[];
  private readonly original: ReadonlyMap<number, Gap>;

  constructor(min: number | null, max: number | null, openGaps: readonly Gap[]) {
    this.min = min;
    this.max = max;
    this.gaps = openGaps.map((g) => ({ ...g }));
    this.original = new Map(
      openGaps.filter((g) => g.id !== undefined).map((g) => [g.id as number, { ...g }]),
    );
  }

  receive(seq: number, atMs: number, day: string): 'new' | 'covered' {
    if (this.min === null || this.max === null) {
      this.min = seq;
      this.max = seq;
      return 'new';
    }
    if (seq > this.max) {
      if (seq > this.max + 1)
        this.gaps.push({ lo: this.max + 1, hi: seq - 1, openedMs: atMs, openedDay: day });
      this.max = seq;
      return 'new';
    }
    if (seq < this.min) {
      if (seq < this.min - 1)
        this.gaps.push({ lo: seq + 1, hi: this.min - 1, openedMs: atMs, openedDay: day });
      this.min = seq;
      return 'new';
    }
    const i = this.gaps.findIndex((g) => g.lo <= seq && seq <= g.hi);
    if (i < 0) return 'covered';
    const g = this.gaps[i] as Gap;
    if (g.lo === g.hi) this.gaps.splice(i, 1);
    else if (seq === g.lo) g.lo++;
    else if (seq === g.hi) g.hi--;
    else {
      this.gaps.push({ lo: seq + 1, hi: g.hi, openedMs: g.openedMs, openedDay: g.openedDay });
      g.hi = seq - 1;
    }
    return 'new';
  }

  /** How many gaps are open (cheaper than openGaps() when only the count matters). */
  get gapCount(): number {
    return this.gaps.length;
  }

  openGaps(): Gap[] {
    return this.gaps.map((g) => ({ ...g })).sort((a, b) => a.lo - b.lo);
  }

  /** What to write back: new gap rows, narrowed rows, rows filled completely. */
  changes(): GapChanges {
    const live = new Map(this.gaps.filter((g) => g.id !== undefined).map((g) => [g.id as number, g]));
    const out: GapChanges = {
      inserted: this.gaps.filter((g) => g.id === undefined),
      updated: [],
      filled: [],
    };
    for (const [id, before] of this.original) {
      const now = live.get(id);
      if (!now) out.filled.push({ ...before });
      else if (now.lo !== before.lo || now.hi !== before.hi) out.updated.push(now);
    }
    return out;
  }
}

/** Merged ranges of the seqs of one (village, boot): add one seq, keep them merged. */
export function addToRanges(ranges: Array<{ lo: number; hi: number }>, seq: number): boolean {
  const below = ranges.find((r) => r.hi === seq - 1);
  const above = ranges.find((r) => r.lo === seq + 1);
  if (ranges.some((r) => r.lo <= seq && seq <= r.hi)) return false;
  if (below && above) {
    below.hi = above.hi;
    ranges.splice(ranges.indexOf(above), 1);
  } else if (below) below.hi = seq;
  else if (above) above.lo = seq;
  else ranges.push({ lo: seq, hi: seq });
  return true;
}
