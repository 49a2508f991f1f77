import { LOG_LEVELS, type LogLevel } from './logger.js';

const LEVEL_RANK: Record<string, number> = Object.fromEntries(
  LOG_LEVELS.map((l, i) => [l, LOG_LEVELS.length - i]),
);
const MAX_LINE = 2048;

export interface RingLine {
  seq: number;
  level: string;
  line: Record<string, unknown>;
}

/**
 * The last N log lines in memory, for the technician page and the diagnostic bundle. It is a
 * second pino destination (multistream), so it sees exactly what journald sees: secrets are
 * already redacted by the logger. The one-time setup code is also blanked here, since the page
 * and the bundle outlive it.
 */
export class LogRing {
  private readonly capacity: number;
  private readonly buf: Array<{ seq: number; rank: number; text: string }> = [];
  private seq = 0;

  constructor(capacity = 500) {
    this.capacity = capacity;
  }

  write(chunk: string): void {
    let text = chunk.length > MAX_LINE ? `${chunk.slice(0, MAX_LINE)}…` : chunk.trimEnd();
    text = text.replace(/"setup_code":"[^"]*"/g, '"setup_code":"[redacted]"');
    const m = /"level":"([a-z]+)"/.exec(text);
    this.buf.push({ seq: ++this.seq, rank: LEVEL_RANK[m?.[1] ?? 'info'] ?? 0, text });
    if (this.buf.length > this.capacity) this.buf.shift();
  }

  /** Lines at `level` or more severe, oldest first, at most `limit`. */
  lines(level: LogLevel = 'trace', limit = 200, afterSeq = 0): RingLine[] {
    const min = LEVEL_RANK[level] ?? 0;
    const out: RingLine[] = [];
    for (let i = this.buf.length - 1; i >= 0 && out.length < limit; i--) {
      const e = this.buf[i]!;
      if (e.seq <= afterSeq) break;
      if (e.rank < min) continue;
      out.push({ seq: e.seq, level: rankName(e.rank), line: parse(e.text) });
    }
    return out.reverse();
  }
}

function rankName(rank: number): string {
  return LOG_LEVELS[LOG_LEVELS.length - rank] ?? 'info';
}

function parse(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : { msg: text };
  } catch {
    return { msg: text };
  }
}
