import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { parseDocument } from 'yaml';
import { GwError } from '../core/errors.js';
import { schemaIssues } from './issues.js';
import { ADVISORIES, type Config, ConfigSchema, REFINEMENTS } from './schema.js';
import type { ConfigIssue, RefinementContext } from './types.js';

export const DEFAULT_CONFIG_PATH = '/etc/kampung-gateway/config.yaml';

export interface LoadedConfig {
  /** Deep-frozen, defaults applied, every path absolute. */
  config: Config;
  file: string;
  /** Insecure settings check-config refuses and `run` logs (see ADVISORIES). */
  advisories: ConfigIssue[];
}

export function resolveConfigPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(flag ?? env.KAMPUNG_GW_CONFIG ?? DEFAULT_CONFIG_PATH);
}

/** Validates YAML text; returns the config or every issue found (never only the first). */
export function validateConfigText(
  text: string,
  file: string,
): { ok: true; config: Config; advisories: ConfigIssue[] } | { ok: false; issues: ConfigIssue[] } {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      issues: doc.errors.map((e) => ({
        path: e.linePos ? `line ${e.linePos[0].line}` : '(yaml)',
        message: e.message.split('\n')[0] ?? e.message,
      })),
    };
  }
  const raw: unknown = doc.toJS() ?? {};
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, issues: [{ path: '(root)', message: 'the file must be a YAML mapping' }] };
  }
  const withDefaults = Value.Default(ConfigSchema, structuredClone(raw));
  const issues = schemaIssues(ConfigSchema, withDefaults);
  const base = dirname(file);
  const ctx: RefinementContext = {
    resolvePath: (p) => (isAbsolute(p) ? p : resolve(base, p)),
  };
  // Refinements assume the shape is right; run them only on a schema-valid document.
  if (issues.length === 0) for (const refine of REFINEMENTS) issues.push(...refine(withDefaults, ctx));
  if (issues.length > 0) return { ok: false, issues };
  const advisories = ADVISORIES.flatMap((advise) => advise(withDefaults, ctx));
  return { ok: true, config: deepFreeze(absolutePaths(withDefaults as Config, ctx.resolvePath)), advisories };
}

export function loadConfig(file: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new GwError('GW_ERR_CONFIG_NOT_FOUND', `cannot read config ${file}`, { cause: err });
  }
  const result = validateConfigText(text, file);
  if (!result.ok) {
    throw new GwError('GW_ERR_CONFIG_INVALID', `invalid config ${file}`, {
      details: { issues: result.issues },
    });
  }
  return { config: result.config, file, advisories: result.advisories };
}

/** data_dir and every `*_file` become absolute, relative to the config file's folder. */
function absolutePaths(config: Config, resolvePath: (p: string) => string): Config {
  const visit = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(visit);
    if (node === null || typeof node !== 'object') return node;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      out[k] = (k.endsWith('_file') || k === 'data_dir') && typeof v === 'string' ? resolvePath(v) : visit(v);
    }
    return out;
  };
  return visit(config) as Config;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Reads a secret from its file, trimmed. The value must never be logged. */
export function readSecretFile(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new GwError('GW_ERR_SECRET_UNREADABLE', `cannot read secret file ${path}`, { cause: err });
  }
}
