/**
 * Parsing of `fping -c N` output (fping 4.x/5.x). Per-packet replies go to stdout, the
 * per-host summary and ICMP errors to stderr; both streams are fed in together. Kept apart
 * from the probe so the parser is tested on recorded text without running fping.
 */
export interface FpingStats {
  sent: number;
  /** Unique replies (duplicates not counted). */
  received: number;
  duplicates: number;
  loss_pct: number;
  min_ms: number | null;
  avg_ms: number | null;
  max_ms: number | null;
  /** ICMP errors seen (host/net unreachable, ...), lower-case words, e.g. "host unreachable". */
  icmp_errors: string[];
  /** The name did not resolve, or the address is not valid for fping. */
  unresolved: boolean;
}

const REPLY = /^\S+\s*:\s*\[(\d+)\],\s*\d+ bytes,\s*([\d.]+) ms/;
const DUPLICATE = /^\S+\s*:\s*duplicate for \[(\d+)\]/;
const SUMMARY =
  /^\S+\s*:\s*xmt\/rcv\/%loss = (\d+)\/(\d+)\/(-?\d+)%(?:,\s*min\/avg\/max = ([\d.]+)\/([\d.]+)\/([\d.]+))?/;
const ICMP_ERROR = /^ICMP (.+?) from \S+ for ICMP Echo/i;
const SEND_ERROR = /error while sending ping: (.+)$/i;
const UNRESOLVED =
  /(Name or service not known|address not found|Temporary failure in name resolution|No address associated)/i;

const TIMED_OUT = /^\S+\s*:\s*\[(\d+)\],\s*timed out/;

/** One line of `fping -l` (loop) output, as it arrives. */
export type FpingLine =
  | { kind: 'reply'; seq: number; rtt: number }
  | { kind: 'timeout'; seq: number }
  | { kind: 'duplicate'; seq: number }
  | { kind: 'icmp_error'; error: string }
  | { kind: 'unresolved' }
  | { kind: 'other' };

export function parseFpingLine(raw: string): FpingLine {
  const line = raw.trim();
  let m = line.match(DUPLICATE);
  if (m) return { kind: 'duplicate', seq: Number(m[1]) };
  m = line.match(REPLY);
  if (m) return { kind: 'reply', seq: Number(m[1]), rtt: Number(m[2]) };
  m = line.match(TIMED_OUT);
  if (m) return { kind: 'timeout', seq: Number(m[1]) };
  m = line.match(ICMP_ERROR) ?? line.match(SEND_ERROR);
  if (m?.[1]) return { kind: 'icmp_error', error: m[1].toLowerCase() };
  if (UNRESOLVED.test(line)) return { kind: 'unresolved' };
  return { kind: 'other' };
}

const SENT_TO = /for ICMP Echo sent to (\S+)/i;
const HOST_PREFIX = /^(\S+?)\s*:/;

/**
 * The target a line is about, as it was given to fping (several targets share one fping):
 * the leading "host :" of replies, timeouts and errors, or the "sent to" address of an ICMP
 * error. Null for lines about no target (blank, headers).
 */
export function fpingLineHost(raw: string): string | null {
  const line = raw.trim();
  const sent = line.match(SENT_TO);
  if (sent?.[1]) return sent[1];
  if (/^ICMP /i.test(line)) return null;
  return line.match(HOST_PREFIX)?.[1] ?? null;
}

export function parseFping(output: string): FpingStats {
  const seqs = new Set<number>();
  const rtts: number[] = [];
  let duplicates = 0;
  let summary: RegExpMatchArray | null = null;
  const icmp = new Set<string>();
  let unresolved = false;
  for (const raw of output.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    let m = line.match(DUPLICATE);
    if (m) {
      duplicates++;
      continue;
    }
    m = line.match(REPLY);
    if (m) {
      const seq = Number(m[1]);
      if (seqs.has(seq)) duplicates++;
      else {
        seqs.add(seq);
        rtts.push(Number(m[2]));
      }
      continue;
    }
    m = line.match(SUMMARY);
    if (m) {
      summary = m;
      continue;
    }
    m = line.match(ICMP_ERROR);
    if (m?.[1]) {
      icmp.add(m[1].toLowerCase());
      continue;
    }
    m = line.match(SEND_ERROR);
    if (m?.[1]) {
      icmp.add(m[1].toLowerCase());
      continue;
    }
    if (UNRESOLVED.test(line)) unresolved = true;
  }
  const sent = summary ? Number(summary[1]) : seqs.size;
  // fping counts duplicates into rcv on some versions (rcv > xmt): trust the unique set when we have it.
  const received = seqs.size > 0 || !summary ? seqs.size : Math.min(Number(summary[2]), sent);
  if (summary && Number(summary[2]) > sent) duplicates = Math.max(duplicates, Number(summary[2]) - sent);
  const loss = sent > 0 ? ((sent - received) / sent) * 100 : 100;
  const fromSummary = (i: number) => (summary?.[i] !== undefined ? Number(summary[i]) : null);
  const min = rtts.length ? Math.min(...rtts) : fromSummary(4);
  const max = rtts.length ? Math.max(...rtts) : fromSummary(6);
  const avg = rtts.length ? rtts.reduce((a, b) => a + b, 0) / rtts.length : fromSummary(5);
  return {
    sent,
    received,
    duplicates,
    loss_pct: round(loss),
    min_ms: min === null ? null : round(min, 3),
    avg_ms: avg === null ? null : round(avg, 3),
    max_ms: max === null ? null : round(max, 3),
    icmp_errors: [...icmp],
    unresolved,
  };
}

function round(v: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
