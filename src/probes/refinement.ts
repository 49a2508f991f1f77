import type { ConfigIssue, ConfigRefinement } from '../config/types.js';
import { type ProbeSpec, requiredFields } from './spec-schema.js';

function checkSpec(spec: ProbeSpec, path: string): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const field of requiredFields(spec.type)) {
    if ((spec as Record<string, unknown>)[field] === undefined)
      issues.push({ path: `${path}.${field}`, message: `required for type "${spec.type}"` });
  }
  return issues;
}

/** Per-type required fields (each probe type's `required`) of uplink probes and device checks. */
export const probeRefinement: ConfigRefinement = (config) => {
  const c = config as { uplink?: { probes?: ProbeSpec[] }; devices?: Array<{ checks?: ProbeSpec[] }> };
  const issues: ConfigIssue[] = [];
  c.uplink?.probes?.forEach((p, i) => {
    issues.push(...checkSpec(p, `uplink.probes[${i}]`));
  });
  c.devices?.forEach((d, i) => {
    d.checks?.forEach((p, j) => {
      issues.push(...checkSpec(p, `devices[${i}].checks[${j}]`));
    });
  });
  return issues;
};
