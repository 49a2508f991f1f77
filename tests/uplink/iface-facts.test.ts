// The uplink's default interface and its kind, read from /proc/net and /sys (iface-facts.ts):
// against iproute2 on this machine, against routing tables written out, and on a real veth.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  defaultInterface,
  defaultRoutes4,
  defaultRoutes6,
  readIfaceFacts,
} from '../../src/uplink/iface-facts.js';
import { tempDir } from '../helpers/tmp.js';

const root = process.getuid?.() === 0;
const tmp = tempDir('kgw-iface-facts-');
afterAll(() => tmp.cleanup());

const HEAD4 = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT';
const row4 = (iface: string, dest: string, flags: string, metric: number, mask: string) =>
  `${iface}\t${dest}\t0101A8C0\t${flags}\t0\t0\t${metric}\t${mask}\t0\t0\t0`;
const ZERO = '0'.repeat(32);
const row6 = (dest: string, len: string, metric: string, flags: string, iface: string) =>
  `${dest} ${len} ${ZERO} 00 ${ZERO} ${metric} 00000001 00000000 ${flags} ${iface}`;

/** A /proc/net of our own: `route` and `ipv6_route` as given. */
function procNet(name: string, route: string, ipv6: string): string {
  const dir = join(tmp.path, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'route'), route);
  writeFileSync(join(dir, 'ipv6_route'), ipv6);
  return dir;
}

describe('defaultInterface', () => {
  it('names the interface iproute2 lists first for the default route on this machine', () => {
    const ipSays = execFileSync('ip', ['-4', 'route', 'show', 'default'], { encoding: 'utf8' });
    const first = /\bdev (\S+)/.exec(ipSays)?.[1];
    if (first) expect(defaultInterface()).toBe(first);
    else
      expect(defaultInterface()).toBe(
        defaultRoutes6(execFileSync('cat', ['/proc/net/ipv6_route'], { encoding: 'utf8' }))[0]?.iface ?? null,
      );
  });

  it('takes the lowest metric, and skips routes that are down, rejecting, or not default', () => {
    const table = [
      HEAD4,
      row4('wlan0', '00000000', '0003', 600, '00000000'),
      row4('eth0', '00000000', '0003', 100, '00000000'),
      row4('usb0', '00000000', '0002', 0, '00000000'), // not RTF_UP
      row4('ppp0', '00000000', '0201', 0, '00000000'), // RTF_REJECT
      row4('eth1', '0001A8C0', '0001', 0, '00FFFFFF'), // a LAN route
    ].join('\n');
    expect(defaultRoutes4(table).map((r) => r.iface)).toEqual(['wlan0', 'eth0']);
    expect(defaultInterface(procNet('v4', table, ''))).toBe('eth0');
  });

  it('falls back to an IPv6 default route, never the kernel unreachable one on lo', () => {
    const v6 = [
      row6(ZERO, '00', 'ffffffff', '00200200', 'lo'),
      row6('fe800000000000000000000000000000', '40', '00000100', '00000001', 'eth0'),
      row6(ZERO, '00', '00000400', '00000003', 'wwan0'),
    ].join('\n');
    expect(defaultInterface(procNet('v6', HEAD4, v6))).toBe('wwan0');
  });

  it('answers null with no default route, no tables, or garbage in them', () => {
    expect(
      defaultInterface(procNet('none', `${HEAD4}\n${row4('eth0', '0001A8C0', '0001', 0, '00FFFFFF')}`, '')),
    ).toBeNull();
    expect(defaultInterface(join(tmp.path, 'missing'))).toBeNull();
    expect(defaultInterface(procNet('junk', '\0\0garbage\n1 2 3', 'x'.repeat(5000)))).toBeNull();
    // an interface name the kernel would not make is not returned (it is used as a path)
    const evil = [HEAD4, row4('../../etc', '00000000', '0003', 0, '00000000')].join('\n');
    expect(defaultInterface(procNet('evil', evil, ''))).toBeNull();
  });
});

describe('readIfaceFacts', () => {
  it('refuses names that are not interface names, and answers null for a missing one', () => {
    for (const bad of ['../../etc', '.', '..', 'a/b', '', 'x'.repeat(16)])
      expect(readIfaceFacts(bad)).toBeNull();
    expect(readIfaceFacts('kgwnone0')).toBeNull();
  });

  it('reads loopback: no speed, not wireless', () => {
    expect(readIfaceFacts('lo')).toEqual({ operstate: 'unknown', speed_mbps: null, wireless: false });
  });

  describe.skipIf(!root)('a veth pair (root)', () => {
    const ip = (...a: string[]) => execFileSync('ip', a, { stdio: 'ignore' });
    afterAll(() => {
      try {
        ip('link', 'del', 'kgwif0');
      } catch {
        // already gone
      }
    });

    it('reads operstate down and up, a speed only as a positive number, and null once removed', () => {
      ip('link', 'add', 'kgwif0', 'type', 'veth', 'peer', 'name', 'kgwif1');
      const down = readIfaceFacts('kgwif0');
      expect(down).toMatchObject({ operstate: 'down', wireless: false });
      ip('link', 'set', 'kgwif1', 'up');
      ip('link', 'set', 'kgwif0', 'up');
      const up = readIfaceFacts('kgwif0');
      expect(up?.operstate).toMatch(/^(up|unknown|lowerlayerdown)$/);
      for (const f of [down, up]) expect(f?.speed_mbps === null || (f?.speed_mbps ?? 0) > 0).toBe(true);
      ip('link', 'del', 'kgwif0');
      expect(readIfaceFacts('kgwif0')).toBeNull();
    });
  });
});
