/**
 * The one NIK/KK detector. A NIK or KK number is 16 digits; people write it with spaces,
 * dashes or dots between digit groups, and copy-paste adds invisible characters. What counts
 * (documented in docs/devices.md, "What the NIK filter catches"):
 *
 * - 16 or more decimal digits of any script (`\p{Nd}`: ASCII, Arabic-Indic, full-width, ...),
 * - where consecutive digits may be separated by up to 3 separator characters: any white
 *   space, any dash (`\p{Pd}`, U+2212 minus), `.`, `_`, `/`, `\`, middle dots, and any
 *   invisible format character (`\p{Cf}`: U+200B..U+200D, U+2060, U+FEFF, soft hyphen, ...).
 *
 * Colons, commas, letters and other punctuation end a run: ISO timestamps
 * (`2026-11-28T10:15:30.123Z`) and short version strings stay accepted.
 */
const SEP = '[\\s\\p{Pd}\\p{Cf}._/\\\\\\u00B7\\u2027\\u2212\\u30FB]';
const NIK_LIKE = new RegExp(`\\p{Nd}(?:${SEP}{0,3}\\p{Nd}){15}`, 'u');

/** Whether a text holds a NIK-like digit run (see above). */
export function looksLikeNik(text: string): boolean {
  return text.length >= 16 && NIK_LIKE.test(text);
}

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/**
 * Whether a JSON text holds a NIK-like run in any token: every string (keys included, after
 * unescaping `\u0033`-style escapes) and every number (as written and as JavaScript prints
 * it, so `3.510171234560001e15` is caught). It reads the text, not the parsed value, so a
 * key repeated in one object is seen every time, not only the last one JSON.parse keeps.
 *
 * One exemption: the string value of an `"id"` key when it is exactly a UUID. Usage event ids
 * are random UUIDs chosen by the kiosk; about 1 in 220 of them has 16 digits in its first
 * groups. The push schemas accept `id` only on usage events and only as a UUID.
 *
 * Expects well-formed JSON (call it after JSON.parse succeeded).
 */
export function jsonHasNik(raw: string): boolean {
  const n = raw.length;
  let key: string | undefined;
  // Where the value of the last key starts (the first non-space after its colon).
  let valueAt = -1;
  let i = 0;
  while (i < n) {
    const c = raw.charCodeAt(i);
    if (c === 0x22) {
      let j = i + 1;
      let escaped = false;
      for (; j < n; j++) {
        const d = raw.charCodeAt(j);
        if (d === 0x5c) {
          escaped = true;
          j++;
        } else if (d === 0x22) break;
      }
      const text: string = escaped ? JSON.parse(raw.slice(i, j + 1)) : raw.slice(i + 1, j);
      const k = skipSpace(raw, j + 1);
      if (raw.charCodeAt(k) === 0x3a) {
        if (looksLikeNik(text)) return true;
        key = text;
        valueAt = skipSpace(raw, k + 1);
      } else if (!(key === 'id' && valueAt === i && UUID.test(text)) && looksLikeNik(text)) {
        return true;
      }
      i = j + 1;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      let j = i + 1;
      while (j < n && isNumberChar(raw.charCodeAt(j))) j++;
      // Printing can only add digits to a long token or one with an exponent (`1e15`).
      if (j - i >= 16 || hasExponent(raw, i, j)) {
        const token = raw.slice(i, j);
        if (looksLikeNik(token) || looksLikeNik(String(Number(token)))) return true;
      }
      i = j;
    } else {
      i++;
    }
  }
  return false;
}

function hasExponent(raw: string, from: number, to: number): boolean {
  for (let k = from; k < to; k++) if ((raw.charCodeAt(k) | 0x20) === 0x65) return true;
  return false;
}

function skipSpace(raw: string, from: number): number {
  let k = from;
  while (k < raw.length) {
    const c = raw.charCodeAt(k);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    k++;
  }
  return k;
}

/** Digits, `.`, `e`/`E`, `+`, `-`: the characters a JSON number token is made of. */
function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d;
}
