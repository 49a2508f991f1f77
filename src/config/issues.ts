import type { TSchema } from '@sinclair/typebox';
import { Value, type ValueError } from '@sinclair/typebox/value';
import { CRON_FORMAT } from './cron-string.js';
import type { ConfigIssue } from './types.js';

/** `/uplink/probes/0/host` → `uplink.probes[0].host` */
export function pointerToKeyPath(pointer: string, base = ''): string {
  const parts = pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  let out = base;
  for (const part of parts) {
    if (/^\d+$/.test(part)) out += `[${part}]`;
    else out += out ? `.${part}` : part;
  }
  return out || '(root)';
}

function describe(error: ValueError): string {
  const schema = error.schema as { anyOf?: Array<{ const?: unknown }>; pattern?: string; format?: string };
  if (schema.format === CRON_FORMAT && typeof error.value === 'string') {
    return `not a valid cron expression: ${JSON.stringify(error.value)}`;
  }
  if (schema.anyOf?.every((s) => s.const !== undefined)) {
    return `must be one of: ${schema.anyOf.map((s) => JSON.stringify(s.const)).join(', ')} (got ${JSON.stringify(error.value)})`;
  }
  if (error.message === 'Unexpected property') return 'unknown key';
  if (error.message === 'Expected required property') return 'required key is missing';
  return error.message.charAt(0).toLowerCase() + error.message.slice(1);
}

/** All schema violations of `value`, one per key path, in document order. */
export function schemaIssues(schema: TSchema, value: unknown, basePath = ''): ConfigIssue[] {
  const byPath = new Map<string, ConfigIssue>();
  for (const error of Value.Errors(schema, value)) {
    const path = pointerToKeyPath(error.path, basePath);
    // A missing key also yields "expected string" at the same path: keep the first, clearer one.
    if (!byPath.has(path)) byPath.set(path, { path, message: describe(error) });
  }
  return [...byPath.values()];
}

export function formatIssues(file: string, issues: ConfigIssue[]): string {
  const lines = issues.map((i) => `  ${i.path}: ${i.message}`);
  return `${file}: ${issues.length} error${issues.length === 1 ? '' : 's'}\n${lines.join('\n')}`;
}
