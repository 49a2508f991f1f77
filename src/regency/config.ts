import { resolve } from 'node:path';
import { loadConfigWith, validateAgainst } from '../config/loader.js';
import type { ConfigIssue } from '../config/types.js';
import {
  REGENCY_ADVISORIES,
  REGENCY_REFINEMENTS,
  type RegencyConfig,
  RegencyConfigSchema,
} from './config-schema.js';

export const DEFAULT_REGENCY_CONFIG_PATH = '/etc/kampung-gateway/regency.yaml';

export function resolveRegencyConfigPath(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string {
  return resolve(flag ?? env.KAMPUNG_REGENCY_CONFIG ?? DEFAULT_REGENCY_CONFIG_PATH);
}

export function validateRegencyConfigText(
  text: string,
  file: string,
): { ok: true; config: RegencyConfig; advisories: ConfigIssue[] } | { ok: false; issues: ConfigIssue[] } {
  return validateAgainst(RegencyConfigSchema, REGENCY_REFINEMENTS, REGENCY_ADVISORIES, text, file);
}

/** Deep-frozen, defaults applied, `data_dir` and every `*_file` absolute. Throws GW_ERR_CONFIG_*. */
export function loadRegencyConfig(file: string): {
  config: RegencyConfig;
  file: string;
  advisories: ConfigIssue[];
} {
  return loadConfigWith(file, validateRegencyConfigText);
}
