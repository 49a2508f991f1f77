import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parseDocument } from 'yaml';
import { GwError } from '../core/errors.js';
import { schemaIssues } from './issues.js';
import { ADVISORIES, type Config, ConfigSchema, REFINEMENTS } from './schema.js';
import type { ConfigIssue, ConfigRefinement, RefinementContext } from './types.js';

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
  return validateAgainst(ConfigSchema, REFINEMENTS, ADVISORIES, text, file);
}

type Validated<C> = { ok: true; config: C; advisories: ConfigIssue[] } | { ok: false; issues: ConfigIssue[] };

/**
 * The loader for any of the package's config files (the gateway's, the regency's): YAML,
 * defaults, every schema issue by key path (unknown keys included), the refinements, then
 * the advisories of a valid file.
 */
export function validateAgainst<S extends TSchema>(
  schema: S,
  refinements: readonly ConfigRefinement[],
  advisories: readonly ConfigRefinement[],
  text: string,
  file: string,
): Validated<Static<S>> {
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
  const withDefaults = Value.Default(schema, structuredClone(raw));
  const issues = schemaIssues(schema, withDefaults);
  const base = dirname(file);
  const ctx: RefinementContext = {
    resolvePath: (p) => (isAbsolute(p) ? p : resolve(base, p)),
  };
  // Refinements assume the shape is right; run them only on a schema-valid document.
  if (issues.length === 0) for (const refine of refinements) issues.push(...refine(withDefaults, ctx));
  if (issues.length > 0) return { ok: false, issues };
  return {
    ok: true,
    config: deepFreeze(absolutePaths(withDefaults as Static<S>, ctx.resolvePath)),
    advisories: advisories.flatMap((advise) => advise(withDefaults, ctx)),
  };
}

export function loadConfig(file: string): LoadedConfig {
  return loadConfigWith(file, validateConfigText);
}

/** Reads `file` and validates it with `validate`; throws GW_ERR_CONFIG_* with every issue. */
export function loadConfigWith<C>(
  file: string,
  validate: (text: string, file: string) => Validated<C>,
): { config: C; file: string; advisories: ConfigIssue[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new GwError('GW_ERR_CONFIG_NOT_FOUND', `cannot read config ${file}`, { cause: err });
  }
  const result = validate(text, file);
  if (!result.ok) {
    throw new GwError('GW_ERR_CONFIG_INVALID', `invalid config ${file}`, {
      details: { issues: result.issues },
    });
  }
  return { config: result.config, file, advisories: result.advisories };
}

/** data_dir, run_dir and every `*_file` become absolute, relative to the config file's folder. */
function absolutePaths<C>(config: C, resolvePath: (p: string) => string): C {
  const visit = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(visit);
    if (node === null || typeof node !== 'object') return node;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      out[k] =
        (k.endsWith('_file') || k === 'data_dir' || k === 'run_dir') && typeof v === 'string'
          ? resolvePath(v)
          : visit(v);
    }
    return out;
  };
  return visit(config) as C;
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
