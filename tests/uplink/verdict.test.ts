import { describe, expect, it } from 'vitest';
import type { Layer } from '../../src/uplink/config-schema.js';
import { advanceOutage, type OpenOutage } from '../../src/uplink/outage.js';
import {
  forgetSince,
  markBroken,
  newTrack,
  observe,
  type ProbeTrack,
  rejudgeAbove,
  type TrackOptions,
} from '../../src/uplink/track.js';
import { computeVerdict } from '../../src/uplink/verdict.js';

const OPTS: TrackOptions = {
  windowMs: 60_000,
  lossPct: 10,
  minPackets: 10,
  rttMs: { lan: 50, isp: 150, dns: 500, internet: 300, regency: 2000 },
};

/** 'S' good round, 'F' failed round, '.' no round this second; rtt per good round. */
function feed(track: ProbeTrack, pattern: string, t0 = 0, rtt = 5): ProbeTrack {
  let t = track;
  [...pattern].forEach((c, i) => {
    if (c === '.') return;
    const ok = c === 'S';
    const mono = t0 + i * 1000;
    t = observe(
      t,
      {
        mono,
        wall: 1_700_000_000_000 + mono,
        ok,
        sent: 1,
        lost: ok ? 0 : 1,
        latency_ms: ok ? rtt : null,
        outcome: ok ? 'ok' : 'timeout',
      },
      OPTS,
    );
  });
  return t;
}

const probe = (name: string, layer: Layer, pattern: string, rtt = 5) =>
  feed(newTrack(name, layer, 4, 4), pattern, 0, rtt);

describe('probe hysteresis', () => {
  it.each([
    ['', 'unknown'],
    ['S', 'up'],
    ['F', 'unknown'],
    ['FFF', 'unknown'],
    ['FFFF', 'down'],
    ['SSSFFF', 'up'],
    ['SSSFFFF', 'down'],
    ['SFFFFSSS', 'down'],
    ['SFFFFSSSS', 'up'],
    ['SFFFFSSFSSS', 'down'],
    ['SFFSFFSFFSFF', 'up'],
  ])('%s → %s', (pattern, state) => {
    expect(probe('p', 'lan', pattern).state).toBe(state);
  });

  it('honours per-probe down_after/up_after', () => {
    expect(feed(newTrack('p', 'lan', 2, 1), 'SFF').state).toBe('down');
    expect(feed(newTrack('p', 'lan', 2, 1), 'SFFS').state).toBe('up');
  });

  it('becomes degraded on loss ≥ 10 % and leaves only below 5 %', () => {
    const lossy = probe('p', 'isp', 'SSSSSSSSSFSSSSSSSSSF'); // 2/20 = 10 %
    expect(lossy.degraded).toBe(true);
    const still = feed(lossy, 'SSSSSSSSSS', 20_000); // 2/30 = 6.7 %: stays (hysteresis)
    expect(still.degraded).toBe(true);
    const clean = feed(still, 'SSSSSSSSSSSSSSSSSSSS', 30_000); // 2/50 = 4 %
    expect(clean.degraded).toBe(false);
  });

  it('becomes degraded when the median RTT is over the layer threshold', () => {
    expect(probe('p', 'lan', 'SSSSS', 80).degraded).toBe(true);
    expect(probe('p', 'internet', 'SSSSS', 80).degraded).toBe(false);
  });

  it('forgets rounds that left the window', () => {
    const t = feed(probe('p', 'lan', 'FFSSSSSSSSSS'), 'S', 120_000);
    expect(t.samples).toHaveLength(1);
  });
});

type Row = [string, Record<string, [Layer, string]>, string, Layer | null, Partial<Record<Layer, string>>];

describe('computeVerdict (ladder)', () => {
  const rows: Row[] = [
    [
      'all good',
      { r: ['lan', 'SSSS'], o: ['isp', 'SSSS'], d: ['dns', 'SS'], a: ['internet', 'SSSS'] },
      'up',
      null,
      { lan: 'up', isp: 'up', internet: 'up' },
    ],
    ['nothing yet', { r: ['lan', ''], o: ['isp', ''] }, 'unknown', null, { lan: 'unknown' }],
    [
      'router cut',
      { r: ['lan', 'SFFFF'], o: ['isp', 'SFFFF'], a: ['internet', 'SFFFF'] },
      'down',
      'lan',
      { lan: 'down', isp: 'unknown', internet: 'unknown' },
    ],
    [
      'ISP cut',
      { r: ['lan', 'SSSSS'], o: ['isp', 'SFFFF'], a: ['internet', 'SFFFF'] },
      'down',
      'isp',
      { lan: 'up', isp: 'down', internet: 'unknown' },
    ],
    [
      'dns dead',
      { r: ['lan', 'SSSSS'], o: ['isp', 'SSSSS'], d: ['dns', 'SFFFF'], a: ['internet', 'SSSSS'] },
      'down',
      'dns',
      { isp: 'up', dns: 'down', internet: 'unknown' },
    ],
    [
      'one anchor dead: internet still up',
      { r: ['lan', 'SSSSS'], a: ['internet', 'SFFFF'], b: ['internet', 'SSSSS'] },
      'up',
      null,
      { internet: 'up' },
    ],
    [
      'all anchors dead',
      { r: ['lan', 'SSSSS'], a: ['internet', 'SFFFF'], b: ['internet', 'FFFFF'] },
      'down',
      'internet',
      { internet: 'down' },
    ],
    [
      'regency down only',
      { r: ['lan', 'SSSSS'], a: ['internet', 'SSSSS'], g: ['regency', 'FFFF'] },
      'down',
      'regency',
      { internet: 'up', regency: 'down' },
    ],
    // The isp probe reached down_after a round before the lan probe: the lan is named.
    [
      'first hop cut, upper probe faster',
      { r: ['lan', 'SSFFF'], o: ['isp', 'SFFFF'] },
      'down',
      'lan',
      { lan: 'down', isp: 'unknown' },
    ],
    // One random loss on the lan does not take the blame for an ISP cut.
    [
      'isp cut with a stray lan loss',
      { r: ['lan', 'SSSSF'], o: ['isp', 'SFFFF'] },
      'down',
      'isp',
      { lan: 'up', isp: 'down' },
    ],
    ['fast and clean', { r: ['lan', 'SSSSS'], o: ['isp', 'SSSSS'] }, 'up', null, {}],
  ];
  it.each(rows)('%s', (_name, probes, verdict, fault, layers) => {
    const tracks = Object.entries(probes).map(([n, [layer, pattern]]) => probe(n, layer, pattern));
    const v = computeVerdict(tracks);
    expect(v.verdict).toBe(verdict);
    expect(v.fault_layer).toBe(fault);
    for (const [l, s] of Object.entries(layers)) expect(v.layers[l as Layer]?.state, l).toBe(s);
  });

  it('is degraded when a layer is slow, with per-layer loss and RTT', () => {
    const v = computeVerdict([probe('r', 'lan', 'SSSSS', 120), probe('o', 'isp', 'SSSSS', 20)]);
    expect(v.verdict).toBe('degraded');
    expect(v.layers.lan).toEqual({ state: 'degraded', loss_pct: 0, rtt_ms: 120 });
    expect(v.layers.isp?.state).toBe('up');
  });

  it('treats a broken probe (fping missing) as unknown, never down', () => {
    const broken = markBroken(probe('r', 'lan', 'FFFFF'), 'fping not installed');
    const v = computeVerdict([broken, probe('a', 'internet', 'SSSS')]);
    expect(v.verdict).toBe('up');
    expect(v.layers.lan?.state).toBe('unknown');
  });

  it('back-dates the failure to the first failed round of the fault layer', () => {
    const v = computeVerdict([probe('r', 'lan', 'SSSSS'), probe('o', 'isp', 'SSFFFF')]);
    expect(v.failingSince?.mono).toBe(2000);
  });

  it('lists the layers lowest first whatever the order of the probes (the page shows them so)', () => {
    const v = computeVerdict([
      probe('g', 'regency', 'SSSS'),
      probe('a', 'internet', 'SSSS'),
      probe('r', 'lan', 'SSSS'),
      probe('d', 'dns', 'SSSS'),
    ]);
    expect(Object.keys(v.layers)).toEqual(['lan', 'dns', 'internet', 'regency']);
  });

  it('dates an internet outage from the last anchor to start failing', () => {
    const v = computeVerdict([probe('a', 'internet', 'FFFFFFFF'), probe('b', 'internet', 'SSSSFFFF')]);
    expect(v.fault_layer).toBe('internet');
    expect(v.failingSince?.mono).toBe(4000);
  });
});

describe('advanceOutage', () => {
  const at = (s: number) => ({ mono: s * 1000, wall: 1_700_000_000_000 + s * 1000 });

  it('opens back-dated, follows the layer, closes at the first good round', () => {
    let lan = probe('r', 'lan', 'SSSSSSSSSS'); // 0..9 s good, 2 ms
    let isp = probe('o', 'isp', 'SSSSSSSSSS');
    lan = feed(lan, 'FFFF', 10_000);
    isp = feed(isp, 'FFFF', 10_000);
    let open: OpenOutage | null = null;
    let r = advanceOutage(open, computeVerdict([lan, isp]), [lan, isp], at(13));
    open = r.open;
    expect(open?.start.mono).toBe(10_000);
    expect(open?.layer).toBe('lan');
    expect(open?.loss_pct_before).toBe(0);
    expect(open?.rtt_ms_before).toBe(5);
    lan = feed(lan, 'FFFFFF', 14_000); // cut lasts 10 s: 10..19
    isp = feed(isp, 'FFFFFF', 14_000);
    r = advanceOutage(open, computeVerdict([lan, isp]), [lan, isp], at(19));
    open = r.open;
    expect(r.ended).toBeNull();
    lan = feed(lan, 'SSSS', 20_000);
    isp = feed(isp, 'SSSS', 20_000);
    r = advanceOutage(open, computeVerdict([lan, isp]), [lan, isp], at(23));
    expect(r.open).toBeNull();
    expect(r.ended).toMatchObject({ duration_ms: 10_000, fault_layer: 'lan' });
    expect(r.ended?.end.mono).toBe(20_000);
  });

  it('keeps the layer that held longest', () => {
    const down = (fault: Layer) => ({
      verdict: 'down' as const,
      fault_layer: fault,
      layers: {},
      failingSince: at(0),
    });
    let r = advanceOutage(null, down('isp'), [], at(0));
    r = advanceOutage(r.open, down('lan'), [], at(1));
    r = advanceOutage(r.open, down('isp'), [], at(2));
    r = advanceOutage(
      r.open,
      { verdict: 'up', fault_layer: null, layers: {}, failingSince: null },
      [],
      at(30),
    );
    expect(r.ended).toMatchObject({ fault_layer: 'isp', duration_ms: 30_000 });
  });

  it('does nothing while up', () => {
    expect(advanceOutage(null, computeVerdict([probe('r', 'lan', 'SS')]), [], at(1))).toEqual({
      open: null,
      ended: null,
    });
  });
});

describe('recovery', () => {
  it('starts a clean window when a probe comes back, so a repaired link is up, not degraded', () => {
    const t = probe('p', 'isp', 'SSSSSSSSSSFFFFFFFFFFSSSS');
    expect(t.state).toBe('up');
    expect(t.degraded).toBe(false);
    expect(t.samples).toHaveLength(4);
    expect(computeVerdict([t]).verdict).toBe('up');
  });
});

describe('rejudgeAbove / forgetSince', () => {
  it('re-judges upper probes that went down through a lower fault', () => {
    const tracks = [probe('o', 'isp', 'SFFFFSSSS'), probe('d', 'dns', 'SFFFFFFFS')];
    expect(computeVerdict(tracks).fault_layer).toBe('dns'); // the artefact: dns one round behind
    const fresh = rejudgeAbove(tracks, 'isp', ['lan', 'isp', 'dns', 'internet', 'regency']);
    expect(fresh[1]).toMatchObject({ state: 'unknown', fails: 0 });
    expect(fresh[0]).toBe(tracks[0]);
    expect(computeVerdict(fresh).verdict).toBe('up');
    // A dns that is really dead is named again after down_after fresh failures.
    expect(computeVerdict([fresh[0]!, feed(fresh[1]!, 'FFFF', 10_000)]).fault_layer).toBe('dns');
  });

  it('forgets the rounds of an outage for the loss window', () => {
    const t = probe('a', 'internet', 'SSSSSSSSSSFFF');
    expect(forgetSince(t, 10_000).samples).toHaveLength(10);
    expect(forgetSince(t, 10_000).degraded).toBe(false);
  });
});

describe('clock jumps', () => {
  it('measures an outage on the monotonic clock when NTP steps the wall clock mid-outage', () => {
    const down = {
      verdict: 'down' as const,
      fault_layer: 'isp' as const,
      layers: {},
      failingSince: { mono: 5_000, wall: 1_000 },
    };
    const opened = advanceOutage(null, down, [], { mono: 9_000, wall: 5_000 });
    // The box had no RTC: wall time was 1970; NTP now says 2026.
    const r = advanceOutage(
      opened.open,
      { verdict: 'up', fault_layer: null, layers: {}, failingSince: null },
      [],
      {
        mono: 65_000,
        wall: Date.UTC(2026, 10, 28),
      },
    );
    expect(r.ended?.duration_ms).toBe(60_000);
    expect(r.ended?.start.wall).toBe(1_000);
  });
});
