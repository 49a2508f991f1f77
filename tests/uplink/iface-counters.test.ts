import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { afterAll, describe, expect, it } from 'vitest';
import { readIfaceCounters } from '../../src/uplink/iface-counters.js';

const root = process.getuid?.() === 0;

describe('readIfaceCounters (sysfs of this machine)', () => {
  it('counts real loopback traffic', async () => {
    const before = readIfaceCounters('lo');
    expect(before).not.toBeNull();
    const sock = createSocket('udp4');
    const payload = Buffer.alloc(1000, 1);
    for (let i = 0; i < 20; i++) await new Promise((r) => sock.send(payload, 9, '127.0.0.1', r));
    sock.close();
    const after = readIfaceCounters('lo');
    // 20 datagrams of 1000 bytes + headers went out (and in) on lo.
    expect(after!.tx_bytes - before!.tx_bytes).toBeGreaterThanOrEqual(20_000);
    expect(after!.rx_bytes - before!.rx_bytes).toBeGreaterThanOrEqual(20_000);
  });

  it('refuses names that are not interface names, and answers null for a missing one', () => {
    for (const bad of ['../../etc', '.', '..', 'a/b', '', 'x'.repeat(16), 'eth0;reboot'])
      expect(readIfaceCounters(bad)).toBeNull();
    expect(readIfaceCounters('kgwnone0')).toBeNull();
  });

  describe.skipIf(!root)('a veth pair (root)', () => {
    const ip = (...a: string[]) => execFileSync('ip', a, { stdio: 'ignore' });
    afterAll(() => {
      try {
        ip('link', 'del', 'kgwct0');
      } catch {
        // already gone
      }
    });

    it('reads operstate down/up, and null once the interface is removed', () => {
      ip('link', 'add', 'kgwct0', 'type', 'veth', 'peer', 'name', 'kgwct1');
      expect(readIfaceCounters('kgwct0')).toMatchObject({ operstate: 'down', rx_bytes: 0, tx_bytes: 0 });
      ip('link', 'set', 'kgwct1', 'up');
      ip('link', 'set', 'kgwct0', 'up');
      expect(readIfaceCounters('kgwct0')?.operstate).toMatch(/^(up|unknown|lowerlayerdown)$/);
      ip('link', 'del', 'kgwct0');
      expect(readIfaceCounters('kgwct0')).toBeNull();
    });
  });
});
