import { Ajv, type Options } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';

/** fastify's own Ajv defaults, except that nothing removes unknown properties (schemas refuse them). */
const BASE: Options = { useDefaults: true, removeAdditional: false, allErrors: false, addUsedSchema: false };

/**
 * Two validators: query strings, params and headers are text on the wire, so their numbers and
 * booleans are coerced from strings (`?hours=24`); JSON bodies carry real types and are checked
 * as sent. With coercion a body `{"service": 3510171234560001}` became the string
 * "3510171234560001" after every text check had looked only at strings.
 */
export function validatorCompiler(): FastifySchemaCompiler<unknown> {
  const body = new Ajv({ ...BASE, coerceTypes: false });
  const text = new Ajv({ ...BASE, coerceTypes: 'array' });
  return ({ schema, httpPart }) =>
    (httpPart === 'body' ? body : text).compile(schema as object) as ReturnType<
      FastifySchemaCompiler<unknown>
    >;
}
