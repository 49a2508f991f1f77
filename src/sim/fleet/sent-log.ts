import type { MessageClass } from '../../report/topics.js';

const SEQ_RE = /"seq":(\d+),/;

/** The envelope's seq, read from the encoder's fixed header order without parsing the JSON. */
export function seqOf(payload: string): number | undefined {
  const m = SEQ_RE.exec(payload.slice(0, 200));
  return m ? Number(m[1]) : undefined;
}

/** Per-kind totals of distinct acknowledged envelopes, summed over the fleet. */
export type Published = Record<'total' | MessageClass, number>;

export function emptyPublished(): Published {
  return { total: 0, health: 0, usage: 0, event: 0, outage: 0 };
}

/**
 * What one village has had acknowledged: a bit per seq (so an envelope sent twice, e.g. again
 * after a power cut ate its PUBACK, counts once) and, for the `resend` command, the envelopes
 * themselves as sent, the newest `keep` of them. This is the village's "sent" store; like the
 * outbox database it survives simulated power cuts.
 */
export class SentLog {
  private bits = new Uint8Array(256);
  private readonly kept = new Map<number, { cls: MessageClass; payload: string }>();
  private readonly keep: number;
  private readonly totals: Published;

  constructor(keep: number, totals: Published) {
    this.keep = keep;
    this.totals = totals;
  }

  /** Records a PUBACK; returns false when this seq was acknowledged before. */
  acked(cls: MessageClass, payload: string): boolean {
    const seq = seqOf(payload);
    if (seq === undefined || this.has(seq)) return false;
    const byte = seq >>> 3;
    if (byte >= this.bits.length) {
      const grown = new Uint8Array(Math.max(byte + 1, this.bits.length * 2));
      grown.set(this.bits);
      this.bits = grown;
    }
    this.bits[byte] = (this.bits[byte] ?? 0) | (1 << (seq & 7));
    this.totals.total++;
    this.totals[cls]++;
    if (this.keep > 0) {
      this.kept.set(seq, { cls, payload });
      if (this.kept.size > this.keep) {
        const oldest = this.kept.keys().next().value;
        if (oldest !== undefined) this.kept.delete(oldest);
      }
    }
    return true;
  }

  has(seq: number): boolean {
    return ((this.bits[seq >>> 3] ?? 0) & (1 << (seq & 7))) !== 0;
  }

  get(seq: number): { cls: MessageClass; payload: string } | undefined {
    return this.kept.get(seq);
  }
}
