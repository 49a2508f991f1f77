import { describe, expect, it } from 'vitest';
import { isGwError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';
import { createProbe } from '../../src/probes/registry.js';
import { createUsbProbe, UsbListing } from '../../src/probes/usb.js';
import { FakeClock } from '../devices/harness.js';

const log = createLogger({ level: 'fatal' });

describe('usb probe', () => {
  it('reports presence of a vendor:product id and caches the listing for its TTL', async () => {
    const clock = new FakeClock(Date.now());
    let calls = 0;
    let devices = [{ id: '1d6b:0002' }, { id: '0BDA:0129' }];
    const listing = new UsbListing(
      clock,
      async () => {
        calls++;
        return devices;
      },
      30_000,
    );
    const reader = createUsbProbe({ type: 'usb', usb_id: '0bda:0129' }, { clock, log }, listing);
    const printer = createUsbProbe({ type: 'usb', usb_id: '04b8:0202' }, { clock, log }, listing);
    const signal = new AbortController().signal;
    expect((await reader.run(signal)).outcome).toBe('ok');
    expect(await printer.run(signal)).toMatchObject({ outcome: 'unreachable', fields: { present: false } });
    expect(calls).toBe(1);
    devices = [{ id: '1d6b:0002' }];
    clock.advance(29_000);
    expect((await reader.run(signal)).outcome).toBe('ok');
    clock.advance(2_000);
    expect((await reader.run(signal)).outcome).toBe('unreachable');
    expect(calls).toBe(2);
  });

  it('concurrent runs share one listing', async () => {
    const clock = new FakeClock(Date.now());
    let calls = 0;
    const listing = new UsbListing(clock, async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 20));
      return [{ id: '1d6b:0002' }];
    });
    await Promise.all([listing.get(), listing.get(), listing.get()]);
    expect(calls).toBe(1);
  });

  it('an aborted run resolves as timeout, not an exception', async () => {
    const clock = new FakeClock(Date.now());
    const listing = new UsbListing(clock, () => new Promise(() => undefined));
    const probe = createUsbProbe({ type: 'usb', usb_id: '0bda:0129' }, { clock, log }, listing);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 20);
    expect((await probe.run(ac.signal)).outcome).toBe('timeout');
  });

  it('through the registry on this box: a real listing, or GW_ERR_PROBE_BROKEN when lsusb is missing', async () => {
    const probe = createProbe(
      { type: 'usb', usb_id: '1d6b:0002' },
      { clock: new FakeClock(Date.now()), log },
    );
    try {
      const r = await probe.run(AbortSignal.timeout(10_000));
      expect(['ok', 'unreachable']).toContain(r.outcome);
    } catch (err) {
      expect(isGwError(err, 'GW_ERR_PROBE_BROKEN')).toBe(true);
    }
  });
});
