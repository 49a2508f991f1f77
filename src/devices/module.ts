import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../config/schema.js';
import { defineModule } from '../modules/contract.js';
import { createProbe } from '../probes/registry.js';
import { CHANGES_RESTAMP } from './changes-repo.js';
import type { DeviceAuth } from './device-auth.js';
import { DevicesService } from './devices-service.js';
import { type DevicePushOptions, devicePushRoutes } from './push-routes.js';
import { deviceTechRoutes } from './tech-routes.js';
import { deviceTimelineRoutes } from './timeline-routes.js';
import { USAGE_RESTAMP } from './usage-repo.js';

export interface DevicesProvides {
  service: DevicesService;
  /** Kiosk bearer tokens, for other kiosk-facing routes (the cache's /svc). */
  auth: DeviceAuth;
}

declare module '../modules/contract.js' {
  interface ModuleProvides {
    devices: DevicesProvides;
  }
}

/** The kiosk push API as a public plugin (its own bearer-token auth). */
export function devicePushPlugin(options: DevicePushOptions): FastifyPluginAsync {
  return async (app) => app.register(devicePushRoutes, options);
}

/**
 * The kiosks and devices: inventory and tokens, the state machine, usage ingest (with the
 * report module's outbox inside the same commit when reporting is on) and pruning.
 */
export const devicesModule = defineModule({
  name: 'devices',
  needs: ['report'],
  slice: (c): Pick<Config, 'devices'> => ({ devices: c.devices }),
  build: ({ config, deps, optional }) => {
    // Usage enters the outbox inside the same durable commit that stores it: no window in which
    // a crash loses the regency's copy, and a full disk refuses both with 507.
    const report = optional('report');
    const devices = new DevicesService({
      ...deps,
      config,
      createProbe,
      usageHooks: report ? [report.usageHook] : [],
    });
    return {
      provides: { service: devices, auth: devices.auth },
      services: [devices],
      status: [devices.statusSection, devices.securitySection],
      publicRoutes: [devicePushPlugin(devices.pushOptions)],
      technicianRoutes: [
        async (app) => app.register(deviceTechRoutes, devices.techOptions),
        async (app) => app.register(deviceTimelineRoutes, devices.techOptions),
      ],
      restamp: [USAGE_RESTAMP, CHANGES_RESTAMP],
      reload: () => devices.reloadTokens(),
    };
  },
});
