/**
 * Packed raw rounds: 5 bytes a round instead of ~18 bytes of JSON, so 48 h of 1 s rounds
 * stay small and each flush touches fewer pages. Layout per round (big-endian):
 *   uint16 time since the previous round (first: since the batch start) in 10 ms steps,
 *   uint8 outcome code, uint16 latency in 0.1 ms steps (0xffff: none; 0xfffe: ≥ 6553.4 ms).
 */
export type RawRound = [number, string, number | null];

const OUTCOMES = ['ok', 'timeout', 'refused', 'unreachable', 'bad_response'] as const;
const NO_LATENCY = 0xffff;
const MAX_LATENCY = 0xfffe;
const BYTES = 5;

export function encodeRounds(rounds: readonly RawRound[]): Buffer {
  const buf = Buffer.alloc(rounds.length * BYTES);
  let prev = 0;
  rounds.forEach(([offset, outcome, latency], i) => {
    const at = i * BYTES;
    const step = Math.max(0, Math.round((offset - prev) / 10));
    buf.writeUInt16BE(Math.min(step, 0xffff), at);
    prev += Math.min(step, 0xffff) * 10;
    const code = OUTCOMES.indexOf(outcome as (typeof OUTCOMES)[number]);
    buf.writeUInt8(code < 0 ? 255 : code, at + 2);
    const l = latency === null ? NO_LATENCY : Math.min(MAX_LATENCY, Math.max(0, Math.round(latency * 10)));
    buf.writeUInt16BE(l, at + 3);
  });
  return buf;
}

export function decodeRounds(buf: Buffer): RawRound[] {
  const out: RawRound[] = [];
  let offset = 0;
  for (let at = 0; at + BYTES <= buf.length; at += BYTES) {
    offset += buf.readUInt16BE(at) * 10;
    const outcome = OUTCOMES[buf.readUInt8(at + 2)] ?? 'unknown';
    const l = buf.readUInt16BE(at + 3);
    out.push([offset, outcome, l === NO_LATENCY ? null : l / 10]);
  }
  return out;
}
