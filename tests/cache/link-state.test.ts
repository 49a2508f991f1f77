import { describe, expect, it } from 'vitest';
import { BusLinkState } from '../../src/cache/link-state.js';
import { Bus } from '../../src/core/bus.js';
import type { GatewayEvents } from '../../src/events.js';
import type { LinkStatus } from '../../src/status/types.js';

const link = (verdict: LinkStatus['verdict'], fault_layer: LinkStatus['fault_layer']): LinkStatus => ({
  verdict,
  fault_layer,
  since: null,
  layers: {},
  outage: null,
});

describe('the cache follows the link verdict', () => {
  it('is down for a fault on the way to the upstreams, not for the regency layer alone', () => {
    const bus = new Bus<GatewayEvents>((_e, err) => {
      throw err;
    });
    const state = new BusLinkState({ bus });
    let recovered = 0;
    state.onRecovered(() => recovered++);
    state.start();
    for (const layer of ['lan', 'isp', 'dns', 'internet'] as const) {
      bus.emit('link.changed', link('down', layer));
      expect(state.isDown(), layer).toBe(true);
    }
    // The regency's broker unreachable: the upstreams are still there; queued writes go now.
    bus.emit('link.changed', link('down', 'regency'));
    expect(state.isDown()).toBe(false);
    expect(recovered).toBe(1);
    bus.emit('link.changed', link('degraded', null));
    expect(state.isDown()).toBe(false);
    state.stop();
  });
});
