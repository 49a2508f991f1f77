import { Type } from '@sinclair/typebox';
import { GwError } from '../core/errors.js';
import { defineProbeType, type Probe, type ProbeDeps, type ProbeResult, type SpecOf } from './types.js';

const FIELDS = { usb_id: Type.String({ pattern: '^[0-9a-fA-F]{4}:[0-9a-fA-F]{4}$' }) };
type UsbSpec = SpecOf<typeof FIELDS>;

export type UsbList = () => Promise<Array<{ id: number | string | null }>>;

/** How long one USB listing is reused: `lsusb -v` is slow on a Pi and the answer rarely changes. */
export const USB_LISTING_TTL_MS = 30_000;

/**
 * The USB device listing, cached (monotonic TTL) and shared by concurrent callers, so a check
 * never runs `lsusb` more than once per TTL. Runs only on the scheduler, never on a request.
 */
export class UsbListing {
  private ids: Set<string> | undefined;
  private at = 0;
  private pending: Promise<Set<string>> | undefined;

  constructor(
    private readonly deps: { monoMs(): number },
    // Loaded on first use: systeminformation is large and most boxes have no usb checks.
    private readonly list: UsbList = async () => (await import('systeminformation')).default.usb(),
    private readonly ttlMs = USB_LISTING_TTL_MS,
  ) {}

  async get(): Promise<Set<string>> {
    if (this.ids && this.deps.monoMs() - this.at < this.ttlMs) return this.ids;
    this.pending ??= this.list()
      .then((devices) => {
        // Every Linux box lists at least its root hubs: an empty list means lsusb is missing.
        if (devices.length === 0)
          throw new GwError('GW_ERR_PROBE_BROKEN', 'no USB listing (is lsusb installed?)');
        this.ids = new Set(devices.map((d) => String(d.id ?? '').toLowerCase()));
        this.at = this.deps.monoMs();
        return this.ids;
      })
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }
}

class UsbProbe implements Probe {
  constructor(
    readonly spec: UsbSpec,
    private readonly listing: UsbListing,
    private readonly deps: ProbeDeps,
  ) {}

  async run(signal: AbortSignal): Promise<ProbeResult> {
    const want = (this.spec.usb_id ?? '').toLowerCase();
    const t0 = this.deps.clock.monoMs();
    const aborted = new Promise<'timeout'>((resolve) => {
      if (signal.aborted) resolve('timeout');
      signal.addEventListener('abort', () => resolve('timeout'), { once: true });
    });
    const ids = await Promise.race([this.listing.get(), aborted]);
    if (ids === 'timeout') return { outcome: 'timeout', latency_ms: null, fields: { usb_id: want } };
    const present = ids.has(want);
    return {
      outcome: present ? 'ok' : 'unreachable',
      latency_ms: this.deps.clock.monoMs() - t0,
      fields: { usb_id: want, present },
    };
  }
}

/** `usb`: presence of a vendor:product id (e.g. "0bda:0129", a card reader) on the box. */
export const usb = defineProbeType({
  type: 'usb',
  fields: FIELDS,
  required: ['usb_id'],
  defaults: { interval_s: 30, timeout_ms: 2000 },
  detail: [],
  create: (spec, deps) => new UsbProbe(spec, new UsbListing(deps.clock), deps),
});

/** For tests and for sharing one listing between several usb checks. */
export function createUsbProbe(spec: UsbSpec, deps: ProbeDeps, listing: UsbListing): Probe {
  return new UsbProbe(spec, listing, deps);
}
