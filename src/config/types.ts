/** One problem in a config file, located by its key path (e.g. `uplink.probes[2].host`). */
export interface ConfigIssue {
  path: string;
  message: string;
}

/**
 * A check a module adds beyond the JSON Schema (cross-field rules, per-probe-type required
 * fields, readable secret files). Receives the config with defaults applied; returns its issues.
 */
export type ConfigRefinement = (config: unknown, ctx: RefinementContext) => ConfigIssue[];

export interface RefinementContext {
  /** Resolves a path from the config file relative to the config file's folder. */
  resolvePath(p: string): string;
}
