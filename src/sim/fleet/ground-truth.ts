import type { Layer } from '../../uplink/config-schema.js';

/**
 * One stretch of a village being down, as the simulator made it happen: its uplink cut at a
 * layer (`link`), or its power off (`power`). `end` is null while it lasts.
 */
export interface TruthSpan {
  code: string;
  why: 'link' | 'power';
  layer: Layer | null;
  start: string;
  end: string | null;
}

/**
 * The simulator's own record of what it did to each village, in simulated wall time: the
 * answer a regency's incidents and SLA figures are checked against. It is kept apart from
 * what the boxes report (their clocks lag after a power cut; their outage ledgers round), so
 * a test compares the regency's numbers with the cause, not with the evidence itself.
 */
export class GroundTruth {
  private readonly spans: TruthSpan[] = [];
  private readonly open = new Map<string, TruthSpan>();

  /** The uplink's down layer changed at `at` (null: not down any more). */
  link(code: string, before: Layer | null, after: Layer | null, at: number): void {
    if (before === after) return;
    if (before !== null) this.close(`${code}|link`, at);
    if (after !== null) this.begin({ code, why: 'link', layer: after, start: iso(at), end: null });
  }

  power(code: string, on: boolean, at: number): void {
    if (on) this.close(`${code}|power`, at);
    else this.begin({ code, why: 'power', layer: null, start: iso(at), end: null });
  }

  all(): TruthSpan[] {
    return this.spans.map((s) => ({ ...s }));
  }

  private begin(s: TruthSpan): void {
    const key = `${s.code}|${s.why}`;
    if (this.open.has(key)) return;
    this.open.set(key, s);
    this.spans.push(s);
  }

  private close(key: string, at: number): void {
    const s = this.open.get(key);
    if (!s) return;
    s.end = iso(at);
    this.open.delete(key);
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
