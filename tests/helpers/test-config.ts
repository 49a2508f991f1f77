import { join } from 'node:path';
import { stringify } from 'yaml';
import { validateConfigText } from '../../src/config/loader.js';
import type { Config } from '../../src/config/schema.js';
import { baseConfig } from './daemon.js';

/**
 * The one test config: the minimal valid config of tests/helpers/daemon.ts (village 3510170012,
 * data in `dir/data`, no probes, no devices) with top-level keys replaced by `over`, validated
 * by the real loader (defaults applied, frozen) exactly as the daemon would read it.
 */
export function testConfig(dir: string, over: Record<string, unknown> = {}): Config {
  const r = validateConfigText(stringify({ ...baseConfig(dir), ...over }), join(dir, 'config.yaml'));
  if (!r.ok) throw new Error(`test config invalid: ${JSON.stringify(r.issues)}`);
  return r.config;
}
