import { Type } from '@sinclair/typebox';

/** When neither `--health-timeout` nor the config says (also the lenient read's fallback). */
export const DEFAULT_HEALTH_TIMEOUT_S = 120;

/**
 * `kampung-gw upgrade` (run by root, not by the daemon) reads this section leniently from the
 * installed config; the daemon only validates it. Every key has a default: it may be omitted.
 */
export const UpgradeConfigSchema = Type.Object(
  {
    /**
     * How long the new version has to answer /healthz (and to connect to the broker when the
     * old one was connected) before it is rolled back. A Pi Zero 2 W migrating a large
     * database needs more than a Pi 5; `--health-timeout` overrides it for one run.
     */
    health_timeout_s: Type.Integer({ minimum: 10, maximum: 3600, default: DEFAULT_HEALTH_TIMEOUT_S }),
  },
  { additionalProperties: false, default: {} },
);
