/**
 * Outage incidents of one village, derived from its uplink verdict history (the health
 * samples it reported, live or replayed). An incident is a run of `down` samples with one
 * fault layer; it ends at the first sample that is not down (or has another layer). A box
 * that went quiet and came back under a new boot was off: a `power` incident covers the
 * silence. Pure: no store, no clock (the caller passes now).
 */

/** One stored health message, reduced to what the derivation needs. */
export interface VerdictSample {
  boot: string;
  seq: number;
  /** When its coverage starts and ends (a folded summary covers from..to; a sample is a point). */
  fromMs: number;
  toMs: number;
  verdict: string;
  layer: string | null;
  /** Probe samples it stands for that were down (1 for a plain down sample). */
  downProbes: number;
  /** Its time is the receipt's, not the box's (clock not synced). */
  unsynced: boolean;
}

export interface SeqGapRow {
  lo: number;
  hi: number;
  state: string;
}

export interface Incident {
  layer: string;
  startMs: number;
  /** null while open. */
  endMs: number | null;
  open: boolean;
  /** A data gap (no sample for longer than the gap limit) lies inside it. */
  interrupted: boolean;
  evidence: {
    /** Down samples (health messages) and the probe samples they stand for. */
    messages: number;
    probes: number;
    /** Seq gaps not repaired (open or unrepairable) within its seq span. */
    seq_gaps: number;
    /** Silences longer than the gap limit inside it. */
    data_gaps: number;
    /** Samples timed by receipt because the box's clock was not synced. */
    unsynced: number;
  };
  seqLo: number;
  seqHi: number;
}

export interface DeriveOptions {
  /** Longer than this between two samples is a data gap (the collector's silent_after_s). */
  gapMs: number;
  nowMs: number;
}

/** Samples must be in time order (ties by seq); see `sortSamples`. */
export function deriveIncidents(
  samples: readonly VerdictSample[],
  gaps: readonly SeqGapRow[],
  opts: DeriveOptions,
): Incident[] {
  const out: Incident[] = [];
  let cur: Incident | null = null;
  let prev: VerdictSample | null = null;
  const close = (endMs: number, endSeq: number) => {
    if (!cur) return;
    cur.endMs = Math.max(cur.startMs, endMs);
    cur.open = false;
    cur.seqHi = Math.max(cur.seqHi, endSeq);
    out.push(cur);
    cur = null;
  };
  for (const s of samples) {
    if (prev && s.fromMs - prev.toMs > opts.gapMs) {
      if (cur) {
        cur.interrupted = true;
        cur.evidence.data_gaps++;
      }
      if (prev.boot !== s.boot)
        out.push(blank('power', prev.toMs, prev.seq, { endMs: s.fromMs, endSeq: s.seq, interrupted: false }));
    }
    const layer = s.layer ?? 'unknown';
    if (s.verdict === 'down') {
      if (cur && cur.layer !== layer) close(s.fromMs, s.seq);
      if (!cur) cur = blank(layer, s.fromMs, s.seq, null);
      cur.evidence.messages++;
      cur.evidence.probes += s.downProbes;
      if (s.unsynced) cur.evidence.unsynced++;
      cur.seqHi = Math.max(cur.seqHi, s.seq);
    } else if (cur) close(s.fromMs, s.seq);
    prev = s;
  }
  if (cur !== null) {
    const open: Incident = cur;
    // Still down at the last sample; no sample since for longer than the limit is a data gap too.
    if (prev && opts.nowMs - prev.toMs > opts.gapMs) {
      open.interrupted = true;
      open.evidence.data_gaps++;
    }
    out.push(open);
  }
  for (const inc of out)
    inc.evidence.seq_gaps = gaps.filter(
      (g) => g.state !== 'repaired' && g.lo <= inc.seqHi && g.hi >= inc.seqLo,
    ).length;
  return out.sort((a, b) => a.startMs - b.startMs);
}

function blank(
  layer: string,
  startMs: number,
  seq: number,
  closed: { endMs: number; endSeq: number; interrupted: boolean } | null,
): Incident {
  return {
    layer,
    startMs,
    endMs: closed ? closed.endMs : null,
    open: closed === null,
    interrupted: closed?.interrupted ?? false,
    evidence: { messages: 0, probes: 0, seq_gaps: 0, data_gaps: closed ? 1 : 0, unsynced: 0 },
    seqLo: seq,
    seqHi: closed ? closed.endSeq : seq,
  };
}

/** Time order; within one boot, seq breaks ties (and orders samples timed by receipt). */
export function sortSamples(samples: VerdictSample[]): VerdictSample[] {
  return samples.sort((a, b) => a.fromMs - b.fromMs || (a.boot === b.boot ? a.seq - b.seq : 0));
}
