import { Type } from '@sinclair/typebox';

/** When neither `--health-timeout` nor the config says (also the lenient read's fallback). */
export const DEFAULT_HEALTH_TIMEOUT_S = 120;
/**
 * The longest health wait. The root upgrade unit's TimeoutStartSec (3600 s) must cover the
 * stop, snapshot and unpack, this wait, and the MQTT grace (connect_delay_max_s ≤ 600 + 60 s):
 * a unit killed by systemd mid-wait would resume and wait again instead of rolling back.
 */
export const MAX_HEALTH_TIMEOUT_S = 600;

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
    health_timeout_s: Type.Integer({
      minimum: 10,
      maximum: MAX_HEALTH_TIMEOUT_S,
      default: DEFAULT_HEALTH_TIMEOUT_S,
    }),
  },
  { additionalProperties: false, default: {} },
);
