import { describe, expect, it } from 'vitest';
import { parseFping, parseFpingLine } from '../../src/probes/fping-output.js';
import { fpingArgs } from '../../src/probes/icmp.js';

describe('parseFping', () => {
  it('reads replies and the summary of a clean round', () => {
    const s = parseFping(
      [
        '10.0.0.1 : [0], 64 bytes, 1.20 ms (1.20 avg, 0% loss)',
        '10.0.0.1 : [1], 64 bytes, 0.80 ms (1.00 avg, 0% loss)',
        '10.0.0.1 : [2], 64 bytes, 1.00 ms (1.00 avg, 0% loss)',
        '',
        '10.0.0.1 : xmt/rcv/%loss = 3/3/0%, min/avg/max = 0.80/1.00/1.20',
      ].join('\n'),
    );
    expect(s).toMatchObject({
      sent: 3,
      received: 3,
      duplicates: 0,
      loss_pct: 0,
      min_ms: 0.8,
      avg_ms: 1,
      max_ms: 1.2,
    });
    expect(s.icmp_errors).toEqual([]);
  });

  it('computes partial loss', () => {
    const s = parseFping(
      [
        '10.0.0.1 : [0], 64 bytes, 2.00 ms (2.00 avg, 0% loss)',
        '10.0.0.1 : [1], timed out (NaN avg, 50% loss)',
        '10.0.0.1 : [2], 64 bytes, 4.00 ms (3.00 avg, 33% loss)',
        '10.0.0.1 : [3], timed out (NaN avg, 50% loss)',
        '10.0.0.1 : xmt/rcv/%loss = 4/2/50%, min/avg/max = 2.00/3.00/4.00',
      ].join('\n'),
    );
    expect(s).toMatchObject({ sent: 4, received: 2, loss_pct: 50, avg_ms: 3 });
  });

  it('does not count duplicates as received packets', () => {
    const s = parseFping(
      [
        '10.0.0.1 : [0], 64 bytes, 1.00 ms (1.00 avg, 0% loss)',
        '10.0.0.1 : duplicate for [0], 64 bytes, 1.10 ms',
        '10.0.0.1 : [1], timed out (NaN avg, 50% loss)',
        '10.0.0.1 : xmt/rcv/%loss = 2/1/50%, min/avg/max = 1.00/1.00/1.00',
      ].join('\n'),
    );
    expect(s).toMatchObject({ sent: 2, received: 1, duplicates: 1, loss_pct: 50 });
  });

  it('derives duplicates from a summary whose rcv exceeds xmt (quiet mode)', () => {
    const s = parseFping('10.0.0.1 : xmt/rcv/%loss = 3/5/-66%, min/avg/max = 0.5/0.6/0.7');
    expect(s).toMatchObject({ sent: 3, received: 3, duplicates: 2, loss_pct: 0, avg_ms: 0.6 });
  });

  it('reports total loss without RTT', () => {
    const s = parseFping('10.0.0.1 : xmt/rcv/%loss = 2/0/100%\n');
    expect(s).toMatchObject({
      sent: 2,
      received: 0,
      loss_pct: 100,
      min_ms: null,
      avg_ms: null,
      max_ms: null,
    });
  });

  it('collects ICMP errors from routers', () => {
    const s = parseFping(
      [
        'ICMP Host Unreachable from 10.0.0.254 for ICMP Echo sent to 10.0.0.1',
        'ICMP Host Unreachable from 10.0.0.254 for ICMP Echo sent to 10.0.0.1',
        'ICMP Network Unreachable from 10.0.0.254 for ICMP Echo sent to 10.0.0.1',
        '10.0.0.1 : xmt/rcv/%loss = 2/0/100%',
      ].join('\n'),
    );
    expect(s.icmp_errors.sort()).toEqual(['host unreachable', 'network unreachable']);
    expect(s.loss_pct).toBe(100);
  });

  it('collects send errors and unresolvable names', () => {
    expect(parseFping('10.9.9.9: error while sending ping: No route to host').icmp_errors).toEqual([
      'no route to host',
    ]);
    const s = parseFping('no.such.host.invalid: Name or service not known\n');
    expect(s.unresolved).toBe(true);
    expect(s).toMatchObject({ sent: 0, received: 0, loss_pct: 100 });
  });

  it('ignores garbage lines', () => {
    const s = parseFping('\u0000garbage\n: : :\n10.0.0.1 : xmt/rcv/%loss = 1/1/0%, min/avg/max = 3/3/3');
    expect(s).toMatchObject({ sent: 1, received: 1, avg_ms: 3 });
  });
});

describe('parseFpingLine (loop mode)', () => {
  it.each([
    ['10.0.0.1 : [7], 64 bytes, 1.25 ms (1.10 avg, 0% loss)', { kind: 'reply', seq: 7, rtt: 1.25 }],
    ['10.0.0.1 : [8], timed out (1.10 avg, 11% loss)', { kind: 'timeout', seq: 8 }],
    ['10.0.0.1 : duplicate for [7], 64 bytes, 1.30 ms', { kind: 'duplicate', seq: 7 }],
    [
      'ICMP Host Unreachable from 10.0.0.254 for ICMP Echo sent to 10.0.0.1',
      { kind: 'icmp_error', error: 'host unreachable' },
    ],
    ['nope.invalid: Name or service not known', { kind: 'unresolved' }],
    ['', { kind: 'other' }],
    ['\u0000 garbage [x] ms', { kind: 'other' }],
  ])('%s', (line, parsed) => {
    expect(parseFpingLine(line)).toEqual(parsed);
  });
});

describe('fpingArgs', () => {
  it('sends one packet per second for an hour at a 1 s interval', () => {
    expect(fpingArgs({ type: 'icmp', host: 'h', interval_s: 1 })).toEqual([
      '-c',
      '3600',
      '-p',
      '1000',
      '-t',
      '500',
      '-B',
      '1',
      'h',
    ]);
  });

  it('never exceeds one packet per second per target on average', () => {
    for (const interval of [0.5, 1, 2.5, 5, 10, 60]) {
      const args = fpingArgs({ type: 'icmp', host: 'h', interval_s: interval });
      const perSecond = 1000 / Number(args[3]);
      // Only an interval under 1 s (the user's explicit choice) goes above 1 packet/s.
      expect(perSecond).toBeLessThanOrEqual(Math.max(1, 1 / interval) + 1e-9);
      expect(Number(args[5])).toBeLessThanOrEqual(Number(args[3]));
    }
  });
});
