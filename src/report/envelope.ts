import { randomBytes } from 'node:crypto';

/** The SPEC envelope of every non-retained message. */
export interface Envelope<T = unknown> {
  v: 1;
  gw: string;
  boot: string;
  seq: number;
  id: string;
  ts: string;
  clock_synced: boolean;
  historical: boolean;
  data: T;
}

/**
 * A UUIDv7 (RFC 9562): 48-bit wall ms, then random bits. Unique even when the wall clock is
 * wrong (74 random bits), and roughly time-ordered once the clock is synced.
 */
export function uuidv7(wallMs: number): string {
  const b = randomBytes(16);
  const ms = BigInt(Math.max(0, Math.floor(wallMs)));
  for (let i = 0; i < 6; i++) b[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x70;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Serialises with `historical` before `data`, so `markHistorical` can flip it without parsing. */
export function encodeEnvelope(e: Envelope): string {
  return JSON.stringify({
    v: e.v,
    gw: e.gw,
    boot: e.boot,
    seq: e.seq,
    id: e.id,
    ts: e.ts,
    clock_synced: e.clock_synced,
    historical: e.historical,
    data: e.data,
  });
}

const LIVE = ',"historical":false,"data":';
const HIST = ',"historical":true,"data":';

/**
 * Rows are stored as sent live; a replay from the backlog flips the flag. The header fields
 * before it are numbers, booleans, ISO stamps and UUIDs, so the first match is the envelope's.
 */
export function markHistorical(payload: string): string {
  const at = payload.indexOf(LIVE);
  return at < 0 ? payload : payload.slice(0, at) + HIST + payload.slice(at + LIVE.length);
}

/** The id of a size probe (a row is sized before its seq and id are allocated). */
export const NIL_ID = '00000000-0000-7000-8000-000000000000';

/** A fresh (not historical) envelope of the box `who`. */
export function newEnvelope<T>(
  who: { gw: string; boot: string; synced: boolean },
  seq: number,
  id: string,
  wall: number,
  data: T,
): Envelope<T> {
  const ts = new Date(wall).toISOString();
  return { v: 1, gw: who.gw, boot: who.boot, seq, id, ts, clock_synced: who.synced, historical: false, data };
}

/** A row's stored size before its seq is known (16 bytes of slack for the seq's digits). */
export function rowSize(probe: Envelope<unknown>): number {
  return Buffer.byteLength(encodeEnvelope(probe)) + 16;
}
