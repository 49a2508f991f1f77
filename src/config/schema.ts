import { type Static, Type } from '@sinclair/typebox';
import { CacheConfigSchema } from '../cache/config-schema.js';
import { oauth2TransportAdvisory } from '../cache/oauth2-advisory.js';
import { DevicesConfigSchema } from '../devices/config-schema.js';
import { tokenStrengthRefinement } from '../devices/token-strength.js';
import { probeRefinement } from '../probes/refinement.js';
import { MqttConfigSchema } from '../report/config-schema.js';
import { SystemConfigSchema } from '../system/config-schema.js';
import { UpgradeConfigSchema } from '../upgrade/config-schema.js';
import { UplinkConfigSchema } from '../uplink/config-schema.js';
import { HttpConfigSchema } from '../web/config-schema.js';
import { DataDirSchema, GatewaySchema, LogLevelSchema, RunDirSchema } from './base-schema.js';
import {
  brokerUrlRefinement,
  secretFilesRefinement,
  uniqueIdsRefinement,
  urlCredentialsRefinement,
} from './refinements.js';
import type { ConfigRefinement } from './types.js';

/** The whole config file: each module declares its own part once; this only composes. */
export const ConfigSchema = Type.Object(
  {
    gateway: GatewaySchema,
    data_dir: DataDirSchema,
    run_dir: RunDirSchema,
    log_level: LogLevelSchema,
    http: HttpConfigSchema,
    uplink: UplinkConfigSchema,
    devices: DevicesConfigSchema,
    mqtt: Type.Optional(MqttConfigSchema),
    cache: CacheConfigSchema,
    system: SystemConfigSchema,
    upgrade: UpgradeConfigSchema,
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;

export const REFINEMENTS: ConfigRefinement[] = [
  probeRefinement,
  uniqueIdsRefinement,
  secretFilesRefinement,
  brokerUrlRefinement(['mqtt.url']),
];

/**
 * Insecure settings: check-config refuses them (exit 1, with the key path), while `run` only
 * logs them as warnings and starts — an upgrade must not take a working village offline.
 */
export const ADVISORIES: ConfigRefinement[] = [
  urlCredentialsRefinement,
  tokenStrengthRefinement,
  oauth2TransportAdvisory,
];
