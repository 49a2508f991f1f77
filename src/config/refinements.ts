import { accessSync, constants } from 'node:fs';
import { brokerUrlProblem } from '../report/broker-url.js';
import { hasUrlCredentials } from './redact.js';
import type { ConfigIssue, ConfigRefinement } from './types.js';

interface Named {
  id?: string;
  name?: string;
}

function duplicates(items: Named[] | undefined, key: 'id' | 'name', path: string): ConfigIssue[] {
  const seen = new Set<string>();
  const issues: ConfigIssue[] = [];
  items?.forEach((item, i) => {
    const v = item[key];
    if (v === undefined) return;
    if (seen.has(v)) issues.push({ path: `${path}[${i}].${key}`, message: `duplicate ${key} "${v}"` });
    seen.add(v);
  });
  return issues;
}

export const uniqueIdsRefinement: ConfigRefinement = (config) => {
  const c = config as { uplink?: { probes?: Named[] }; devices?: Named[]; cache?: { upstreams?: Named[] } };
  return [
    ...duplicates(c.uplink?.probes, 'name', 'uplink.probes'),
    ...duplicates(c.devices, 'id', 'devices'),
    ...duplicates(c.cache?.upstreams, 'name', 'cache.upstreams'),
  ];
};

/** Every `*_file` key must name a readable file. (Cron expressions are a schema format.) */
export const secretFilesRefinement: ConfigRefinement = (config, ctx) => {
  const issues: ConfigIssue[] = [];
  const visit = (node: unknown, path: string) => {
    if (Array.isArray(node)) {
      node.forEach((v, i) => {
        visit(v, `${path}[${i}]`);
      });
      return;
    }
    if (node === null || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      const keyPath = path ? `${path}.${key}` : key;
      if (key.endsWith('_file') && typeof value === 'string') {
        try {
          accessSync(ctx.resolvePath(value), constants.R_OK);
        } catch {
          issues.push({ path: keyPath, message: `file ${value} is missing or unreadable` });
        }
      } else {
        visit(value, keyPath);
      }
    }
  };
  visit(config, '');
  return issues;
};

/** Where a URL's credentials belong instead, by the key that held them. */
function credentialsHome(path: string): string {
  if (path === 'mqtt.url') return 'mqtt.username and mqtt.password_file';
  const up = /^(cache\.upstreams\[\d+\])\.base_url$/.exec(path);
  if (up) return `${up[1]}.auth.basic_file (or bearer_file, headers_file)`;
  return 'a *_file key';
}

/**
 * Secrets come from files (SPEC): a URL with `user:password@` would be shown by get-config,
 * logs and the bundle wherever redaction is missed, so it is refused, naming the key to use.
 * The message never repeats the URL.
 */
export const urlCredentialsRefinement: ConfigRefinement = (config) => {
  const issues: ConfigIssue[] = [];
  const visit = (node: unknown, path: string) => {
    if (typeof node === 'string') {
      if (hasUrlCredentials(node))
        issues.push({
          path,
          message: `credentials in a URL are not allowed: put them in ${credentialsHome(path)}`,
        });
    } else if (Array.isArray(node)) {
      node.forEach((v, i) => {
        visit(v, `${path}[${i}]`);
      });
    } else if (node !== null && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) visit(v, path ? `${path}.${k}` : k);
    }
  };
  visit(config, '');
  return issues;
};

/**
 * Broker URLs must be readable by the client that will connect with them (the schema checks
 * only the scheme). `keys` are dotted paths; an absent or empty value is left to the schema.
 */
export function brokerUrlRefinement(keys: readonly string[]): ConfigRefinement {
  return (config) => {
    const issues: ConfigIssue[] = [];
    for (const path of keys) {
      const value = path
        .split('.')
        .reduce<unknown>((n, k) => (n as Record<string, unknown> | undefined)?.[k], config);
      if (typeof value !== 'string' || value === '') continue;
      const problem = brokerUrlProblem(value);
      if (problem) issues.push({ path, message: problem });
    }
    return issues;
  };
}
