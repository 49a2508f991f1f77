import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';

/** fastify's own Ajv defaults, except that nothing removes unknown properties (schemas refuse them). */
const BASE: Options = { useDefaults: true, removeAdditional: false, allErrors: false, addUsedSchema: false };

type Validate = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

/**
 * Two validators: query strings, params and headers are text on the wire, so their numbers and
 * booleans are coerced from strings (`?hours=24`); JSON bodies carry real types and are checked
 * as sent. With coercion a body `{"service": 3510171234560001}` became the string
 * "3510171234560001" after every text check had looked only at strings.
 *
 * Each route's validator is compiled on the route's first request, not at start: compiling
 * all of them was about a tenth of the daemon's start-up (47 ms of ~460 on the test box), and
 * the generated code of a route nobody calls (most of them, on an idle box) stays unmade. The
 * price: a schema Ajv refuses no longer stops the start; it fails that route's first request
 * (a 500 through the error handler), so a route's tests must call it at least once.
 */
export function validatorCompiler(): FastifySchemaCompiler<unknown> {
  // Made on the first request that needs one (an Ajv with its meta-schemas is some 10 ms).
  let body: Ajv | undefined;
  let text: Ajv | undefined;
  return ({ schema, httpPart }) => {
    let compiled: ValidateFunction | undefined;
    const validate: Validate = (data) => {
      if (!compiled) {
        let ajv: Ajv;
        if (httpPart === 'body') {
          body ??= new Ajv({ ...BASE, coerceTypes: false });
          ajv = body;
        } else {
          text ??= new Ajv({ ...BASE, coerceTypes: 'array' });
          ajv = text;
        }
        compiled = ajv.compile(schema as object);
      }
      const ok = compiled(data) as boolean;
      // fastify reads the errors from the function it was given.
      validate.errors = compiled.errors ?? null;
      return ok;
    };
    return validate as ReturnType<FastifySchemaCompiler<unknown>>;
  };
}
