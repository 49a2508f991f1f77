import { describe, expect, it } from 'vitest';
import { wibDay, wibStamp, wibTime } from '../../src/core/wib.js';

describe('WIB (UTC+7) formatting', () => {
  it('puts 17:00 UTC on the next WIB day', () => {
    expect(wibDay(Date.parse('2026-11-28T16:59:59Z'))).toBe('2026-11-28');
    expect(wibDay(Date.parse('2026-11-28T17:00:00Z'))).toBe('2026-11-29');
  });

  it('reads an ISO time as WIB, and a missing or bad one as a dash', () => {
    expect(wibTime('2026-11-28T05:04:05.123Z')).toBe('2026-11-28 12:04:05 WIB');
    expect(wibTime(null)).toBe('—');
    expect(wibTime('yesterday')).toBe('—');
  });

  it('stamps file names to the WIB minute', () => {
    expect(wibStamp(Date.parse('2026-12-31T18:30:59Z'))).toBe('202701010130');
  });
});
