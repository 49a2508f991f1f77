/**
 * The Raspberry Pi firmware's throttling word (`vcgencmd get_throttled`, or the firmware's
 * sysfs file). Low bits are the state now; bits 16+ are "has happened since boot", which is
 * what a technician visiting once a month needs to see.
 */
export interface Throttling {
  raw: number;
  /** Something is limiting the box right now (undervoltage, capping, throttling, soft limit). */
  active: boolean;
  undervoltage_now: boolean;
  freq_capped_now: boolean;
  throttled_now: boolean;
  soft_temp_limit_now: boolean;
  undervoltage_since_boot: boolean;
  freq_capped_since_boot: boolean;
  throttled_since_boot: boolean;
  soft_temp_limit_since_boot: boolean;
  /** The set flags as words, e.g. ["undervoltage_now", "throttled_since_boot"]. */
  words: string[];
}

const BITS: Array<[number, keyof Omit<Throttling, 'raw' | 'active' | 'words'>]> = [
  [0, 'undervoltage_now'],
  [1, 'freq_capped_now'],
  [2, 'throttled_now'],
  [3, 'soft_temp_limit_now'],
  [16, 'undervoltage_since_boot'],
  [17, 'freq_capped_since_boot'],
  [18, 'throttled_since_boot'],
  [19, 'soft_temp_limit_since_boot'],
];

export function decodeThrottled(raw: number): Throttling {
  const t = { raw, active: (raw & 0xf) !== 0, words: [] as string[] } as Throttling;
  for (const [bit, name] of BITS) {
    const set = ((raw >>> bit) & 1) === 1;
    t[name] = set;
    if (set) t.words.push(name);
  }
  return t;
}

/** `vcgencmd get_throttled` prints `throttled=0x50005`; anything else is "no reading". */
export function parseVcgencmd(output: string): Throttling | null {
  const m = /throttled=0x([0-9a-f]+)/i.exec(output);
  return m?.[1] ? decodeThrottled(Number.parseInt(m[1], 16)) : null;
}

/** The firmware's sysfs file holds the same word in bare hex (e.g. `50005`). */
export function parseThrottledSysfs(text: string): Throttling | null {
  const s = text.trim().replace(/^0x/i, '');
  if (!/^[0-9a-f]{1,8}$/i.test(s)) return null;
  return decodeThrottled(Number.parseInt(s, 16));
}
