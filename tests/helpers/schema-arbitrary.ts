import * as fc from 'fast-check';

/** The JSON Schema subset TypeBox emits for the config. */
interface Node {
  type?: string;
  properties?: Record<string, Node>;
  required?: string[];
  items?: Node;
  anyOf?: Node[];
  const?: unknown;
  default?: unknown;
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
}

/**
 * Replaces the generator of one key: gets the key path (`uplink.probes[].host`), the key's
 * own name and its schema; returns an arbitrary, or undefined to generate from the schema.
 */
export type Override = (path: string, key: string, schema: Node) => fc.Arbitrary<unknown> | undefined;

export interface SchemaArbitraryOptions {
  override?: Override;
  /** Most items an array gets, whatever maxItems allows (keeps configs small). */
  maxItems?: number;
  /** Chance that an optional key (or one with a default) is written. */
  optionalRate?: number;
}

/** Numbers near and at the bounds, plus anything in between. */
function numberArb(s: Node, integer: boolean): fc.Arbitrary<number> {
  const min = s.minimum ?? (integer ? -1e6 : -1e6);
  const max = s.maximum ?? 1e6;
  const edges = [min, max, ...(integer ? [min + 1, max - 1] : [min + 0.001, max - 0.001])].filter(
    (n) => n >= min && n <= max,
  );
  const any = integer
    ? fc.integer({ min: Math.ceil(min), max: Math.floor(max) })
    : fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
  return fc.oneof({ weight: 1, arbitrary: fc.constantFrom(...edges) }, { weight: 2, arbitrary: any });
}

/** fast-check cannot generate lookarounds: generate without them, then keep what the real pattern accepts. */
const withoutLookarounds = (pattern: string) =>
  pattern.replace(/\(\?<?[=!](?:[^()\\]|\\.|\([^()]*\))*\)/g, '');

function stringArb(s: Node): fc.Arbitrary<string> {
  if (s.pattern) {
    const re = new RegExp(s.pattern);
    return fc
      .stringMatching(new RegExp(withoutLookarounds(s.pattern)))
      .filter((v) => re.test(v) && lengthOk(v, s));
  }
  return fc.string({
    minLength: s.minLength ?? 0,
    maxLength: Math.min(s.maxLength ?? 40, 40),
    unit: 'grapheme',
  });
}

const lengthOk = (v: string, s: Node) =>
  v.length >= (s.minLength ?? 0) && v.length <= (s.maxLength ?? Infinity);

/**
 * An arbitrary of documents shaped by a TypeBox (JSON Schema) declaration: every key the
 * schema declares is generated from its type, bounds, pattern and literals, so a key added to
 * the config is covered without touching the test. `override` supplies values the schema
 * cannot describe (targets that must stay on loopback or TEST-NET, files that must exist).
 */
export function arbitraryFromSchema(root: Node, options: SchemaArbitraryOptions = {}): fc.Arbitrary<unknown> {
  const rate = options.optionalRate ?? 0.6;
  const build = (s: Node, path: string, key: string): fc.Arbitrary<unknown> => {
    const own = options.override?.(path, key, s);
    if (own) return own;
    if (s.anyOf) {
      if (s.anyOf.every((a) => a.const !== undefined)) return fc.constantFrom(...s.anyOf.map((a) => a.const));
      return fc.oneof(...s.anyOf.map((a) => build(a, path, key)));
    }
    switch (s.type) {
      case 'object': {
        const required = new Set(s.required ?? []);
        const entries = Object.entries(s.properties ?? {}).map(([k, child]) => {
          const arb = build(child, path ? `${path}.${k}` : k, k);
          // A key with a default or not required may be left out; required ones always appear.
          const optional = !required.has(k) || child.default !== undefined;
          return [
            k,
            optional ? fc.option(arb, { freq: Math.round(1 / (1 - rate)), nil: undefined }) : arb,
          ] as const;
        });
        return fc
          .record(Object.fromEntries(entries))
          .map((o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)));
      }
      case 'array':
        return fc.array(build(s.items ?? {}, `${path}[]`, key), {
          minLength: s.minItems ?? 0,
          maxLength: Math.min(s.maxItems ?? 4, options.maxItems ?? 4),
        });
      case 'string':
        return stringArb(s);
      case 'integer':
        return numberArb(s, true);
      case 'number':
        return numberArb(s, false);
      case 'boolean':
        return fc.boolean();
      default:
        if (s.const !== undefined) return fc.constant(s.const);
        throw new Error(`schema at ${path || '(root)'}: no generator for ${JSON.stringify(s).slice(0, 80)}`);
    }
  };
  return build(root, '', '');
}
