import { type Static, type TOptional, type TSchema, Type } from '@sinclair/typebox';
import { PROBE_REGISTRY, PROBE_TYPES_BY_NAME, type ProbeTypeName } from './registry.js';
import type { DetailKey, ProbeSpecBase, ProbeType } from './types.js';

export type { ProbeTypeName } from './registry.js';

type Registry = typeof PROBE_REGISTRY;
type FieldsOf<T> = T extends ProbeType<infer F> ? F : never;
type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void
  ? I
  : never;
/** Every registered type's fields, each optional: the spec is one flat mapping whatever its type. */
type AllFields = UnionToIntersection<FieldsOf<Registry[ProbeTypeName]>>;
type OptionalFields = {
  [K in keyof AllFields]: AllFields[K] extends TSchema ? TOptional<AllFields[K]> : never;
};

export const PROBE_TYPES = Object.keys(PROBE_REGISTRY) as ProbeTypeName[];

/** The registry's fields merged; one key read by two types must have one schema. */
function mergedFields(): OptionalFields {
  const out: Record<string, TSchema> = {};
  const owner: Record<string, string> = {};
  for (const [name, t] of Object.entries(PROBE_TYPES_BY_NAME)) {
    for (const [key, schema] of Object.entries(t?.fields ?? {})) {
      if (owner[key] && JSON.stringify(out[key]) !== JSON.stringify(Type.Optional(schema)))
        throw new Error(`probe field "${key}" of "${name}" differs from the one of "${owner[key]}"`);
      owner[key] ??= name;
      out[key] = Type.Optional(schema);
    }
  }
  return out as OptionalFields;
}

/**
 * How a probe is written in the config, shared by uplink probes and device checks: derived
 * from the probe registry. Fields that apply to one type only are allowed on any type (as
 * they always were); the required ones are checked per type by refinement.ts.
 */
export const ProbeSpecSchema = Type.Object(
  {
    type: Type.Union(PROBE_TYPES.map((t) => Type.Literal(t))),
    name: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,31}$' })),
    ...mergedFields(),
    interval_s: Type.Optional(Type.Number({ minimum: 0.5, maximum: 86400 })),
    timeout_ms: Type.Optional(Type.Integer({ minimum: 50, maximum: 60000 })),
  },
  { additionalProperties: false },
);
export type ProbeSpec = Static<typeof ProbeSpecSchema>;

const typeOf = (spec: ProbeSpecBase) => PROBE_TYPES_BY_NAME[spec.type];

/** The fields a spec of this type must set. */
export const requiredFields = (type: string): readonly string[] => PROBE_TYPES_BY_NAME[type]?.required ?? [];

/** The spec's interval in ms, or its type's default. */
export const intervalMsOf = (spec: ProbeSpecBase): number =>
  (spec.interval_s ?? typeOf(spec)?.defaults.interval_s ?? 10) * 1000;

/**
 * The spec's deadline per run, or its type's default. Probes do not time themselves: whoever
 * runs one aborts its signal at this deadline (STYLE rule 6).
 */
export const timeoutOf = (spec: ProbeSpecBase): number =>
  spec.timeout_ms ?? typeOf(spec)?.defaults.timeout_ms ?? 5000;

/** The deadline of one run on its own (doctor, the `ping` command): some types need longer. */
export const oneRunMsOf = (spec: ProbeSpecBase): number => typeOf(spec)?.oneRunMs?.(spec) ?? timeoutOf(spec);

/** A result's detail for people (`status=503`, `rcode=SERVFAIL`), from its type's detail keys. */
export function probeDetail(
  type: string,
  fields: Record<string, string | number | boolean | null>,
): string | null {
  const keys: DetailKey[] = [...(PROBE_TYPES_BY_NAME[type]?.detail ?? []), 'error'];
  const parts: string[] = [];
  for (const k of keys) {
    const key = typeof k === 'string' ? k : k.key;
    const value = fields[key];
    if (value === undefined || value === null) continue;
    if (typeof k !== 'string' && value === k.unless) continue;
    parts.push(`${key}=${String(value)}`);
  }
  return parts.length ? parts.join(' ') : null;
}
