import type { Outbox } from '../../report/outbox.js';
import { StatusHub } from '../../status/status-hub.js';
import type { DeviceStatus, LinkStatus, StatusObject, StatusSection } from '../../status/types.js';
import { type BoxTraits, type CacheCounters, systemReading } from './box-model.js';
import type { VillageClock } from './sim-time.js';

/** What a simulated village exposes for its status object (read at every snapshot). */
export interface VillageStatusSource {
  code: string;
  name(): string;
  version(): string;
  /** Simulated wall time (ms). */
  now(): number;
  /** Simulated ms since the fleet's origin (the box's uptime stand-in). */
  sinceOrigin(): number;
  link(): LinkStatus;
  devices(): DeviceStatus[];
  /** The current boot, absent while the box is off. */
  run(): { boot: string; startedAt: string; outbox: Outbox; clock: VillageClock } | undefined;
  connected(): boolean;
  cache: CacheCounters;
  traits: BoxTraits;
  lastJumpS(): number | null;
}

/**
 * The status hub of one simulated box, with the daemon's own section shapes, so the real
 * health builder and birth message read it as they read a real gateway's.
 */
export function villageStatusHub(v: VillageStatusSource): StatusHub {
  const hub = new StatusHub({
    gateway: { id: v.code, name: '', version: '', boot: null, started_at: null },
    link: v.link(),
    devices: [],
    outbox: { depth: 0, bytes: 0, oldest_age_s: null, dropped: {}, connected: false },
    cache: v.cache.status(),
    system: systemReading(v.traits, 0, 0, null),
    clock: { synced: false, last_jump_s: null },
  });
  const sections: { [K in keyof StatusObject]: () => StatusObject[K] } = {
    gateway: () => ({
      id: v.code,
      name: v.name(),
      version: v.version(),
      boot: v.run()?.boot ?? null,
      started_at: v.run()?.startedAt ?? null,
    }),
    link: () => v.link(),
    devices: () => v.devices(),
    outbox: () => {
      const outbox = v.run()?.outbox;
      return {
        depth: outbox?.depth() ?? 0,
        bytes: outbox?.bytes() ?? 0,
        oldest_age_s: outbox?.oldestAgeS() ?? null,
        dropped: outbox?.drops() ?? {},
        connected: v.connected(),
      };
    },
    cache: () => v.cache.status(),
    system: () => systemReading(v.traits, v.now(), v.sinceOrigin(), Math.round(60 + v.traits.memBase / 4)),
    clock: () => ({ synced: v.run()?.clock.isSynced ?? false, last_jump_s: v.lastJumpS() }),
  };
  for (const [section, live] of Object.entries(sections))
    hub.register({ section: section as keyof StatusObject, live } as StatusSection);
  return hub;
}
