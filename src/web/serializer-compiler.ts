import fastJsonStringify from 'fast-json-stringify';
import type { FastifySerializerCompiler } from 'fastify';

type Serialize = (data: unknown) => string;

/**
 * fastify's own response serializer (fast-json-stringify, as its default compiler builds it:
 * no shared schemas are added to the app), compiled on the route's first reply instead of at
 * start. Compiling the 38 response schemas of the daemon's routes at start took about 45 ms,
 * an eighth of its start-up, most of it a new Ajv per schema inside fast-json-stringify, and
 * kept the generated code of routes an idle box never answers. As with the validators
 * (validator-compiler.ts), a schema fast-json-stringify refuses fails that route's first reply
 * (a 500 through the error handler) rather than the start: every route's tests call it.
 */
export function serializerCompiler(): FastifySerializerCompiler<unknown> {
  return ({ schema }) => {
    let compiled: Serialize | undefined;
    return (data: unknown) => {
      compiled ??= fastJsonStringify(schema as Parameters<typeof fastJsonStringify>[0]) as Serialize;
      return compiled(data);
    };
  };
}
