import { describe, expect, it } from 'vitest';
import {
  diskFromStatfs,
  parseLoadavg,
  parseMeminfo,
  parseProcIo,
  parseThermalMilli,
  pickCpuZone,
} from '../../src/system/readings.js';
import { decodeThrottled, parseThrottledSysfs, parseVcgencmd } from '../../src/system/throttled.js';

describe('Pi throttling word', () => {
  it('0x0: a healthy Pi', () => {
    const t = parseVcgencmd('throttled=0x0\n');
    expect(t).not.toBeNull();
    expect(t?.active).toBe(false);
    expect(t?.words).toEqual([]);
  });

  it('0x50005: undervoltage and throttling now and since boot', () => {
    const t = parseVcgencmd('throttled=0x50005\n');
    expect(t?.raw).toBe(0x50005);
    expect(t?.active).toBe(true);
    expect(t?.undervoltage_now).toBe(true);
    expect(t?.throttled_now).toBe(true);
    expect(t?.freq_capped_now).toBe(false);
    expect(t?.words).toEqual([
      'undervoltage_now',
      'throttled_now',
      'undervoltage_since_boot',
      'throttled_since_boot',
    ]);
  });

  it('0x50000: happened since boot, fine now', () => {
    const t = parseVcgencmd('throttled=0x50000');
    expect(t?.active).toBe(false);
    expect(t?.undervoltage_now).toBe(false);
    expect(t?.words).toEqual(['undervoltage_since_boot', 'throttled_since_boot']);
  });

  it('0x80008: soft temperature limit now and since boot', () => {
    const t = decodeThrottled(0x80008);
    expect(t.active).toBe(true);
    expect(t.soft_temp_limit_now).toBe(true);
    expect(t.words).toEqual(['soft_temp_limit_now', 'soft_temp_limit_since_boot']);
  });

  it('0x20002: frequency capped', () => {
    expect(parseVcgencmd('throttled=0x20002')?.words).toEqual(['freq_capped_now', 'freq_capped_since_boot']);
  });

  it('the firmware sysfs file holds bare hex', () => {
    expect(parseThrottledSysfs('50005\n')?.raw).toBe(0x50005);
    expect(parseThrottledSysfs('0\n')?.active).toBe(false);
  });

  it('missing or garbled output is "no reading", never zero', () => {
    expect(parseVcgencmd('')).toBeNull();
    expect(parseVcgencmd('VCHI initialization failed')).toBeNull();
    expect(parseThrottledSysfs('')).toBeNull();
    expect(parseThrottledSysfs('zz')).toBeNull();
  });
});

describe('temperature', () => {
  it('reads millidegrees (Pi 4 cpu-thermal, recorded)', () => {
    expect(parseThermalMilli('48686\n')).toBe(48.7);
    expect(parseThermalMilli('81234')).toBe(81.2);
  });

  it('absent or bogus sensors are null', () => {
    expect(parseThermalMilli(null)).toBeNull();
    expect(parseThermalMilli('')).toBeNull();
    expect(parseThermalMilli('0')).toBeNull();
    expect(parseThermalMilli('-273000')).toBeNull();
    expect(parseThermalMilli('N/A')).toBeNull();
  });

  it('prefers the CPU zone', () => {
    expect(
      pickCpuZone([
        { type: 'acpitz', temp_c: 27.8 },
        { type: 'x86_pkg_temp', temp_c: 55 },
      ]),
    ).toBe(55);
    expect(pickCpuZone([{ type: 'cpu-thermal', temp_c: 61.3 }])).toBe(61.3);
    expect(pickCpuZone([{ type: 'cpu-thermal', temp_c: null }])).toBeNull();
    expect(pickCpuZone([])).toBeNull();
  });
});

describe('memory, io, load, disk', () => {
  const meminfo = `MemTotal:        3884096 kB
MemFree:          215872 kB
MemAvailable:    2913456 kB
Buffers:          112412 kB
Cached:          2432132 kB
`;
  it('meminfo: used = total - available', () => {
    const m = parseMeminfo(meminfo);
    expect(m?.total_bytes).toBe(3884096 * 1024);
    expect(m?.used_pct).toBe(25);
  });

  it('meminfo without MemAvailable (old kernels) falls back to free + cached', () => {
    const m = parseMeminfo('MemTotal: 1000 kB\nMemFree: 100 kB\nCached: 400 kB\n');
    expect(m?.used_pct).toBe(50);
    expect(parseMeminfo('garbage')).toBeNull();
  });

  it('/proc/self/io', () => {
    const io = parseProcIo(
      'rchar: 6976\nwchar: 10\nsyscr: 10\nsyscw: 1\nread_bytes: 4096\nwrite_bytes: 1228800\ncancelled_write_bytes: 0\n',
    );
    expect(io).toEqual({ read_bytes: 4096, write_bytes: 1228800 });
    expect(parseProcIo('rchar: 1\n')).toBeNull();
  });

  it('loadavg', () => {
    expect(parseLoadavg('0.52 0.40 0.33 1/123 4567\n')).toEqual([0.52, 0.4, 0.33]);
    expect(parseLoadavg('')).toBeNull();
  });

  it('statfs like df', () => {
    const d = diskFromStatfs({ bsize: 4096, blocks: 1000, bfree: 300, bavail: 250 });
    expect(d?.free_bytes).toBe(250 * 4096);
    expect(d?.used_pct).toBe(73.7);
    expect(diskFromStatfs({ bsize: 4096, blocks: 0, bfree: 0, bavail: 0 })).toBeNull();
  });
});
