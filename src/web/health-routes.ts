import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';

export interface HealthRoutesOptions {
  /** True when the database answers. Nothing here may depend on the uplink or the broker. */
  dbOk(): boolean;
}

const HealthReply = Type.Object({ ok: Type.Boolean(), db: Type.Boolean() });

export const healthRoutes: FastifyPluginAsyncTypebox<HealthRoutesOptions> = async (app, opts) => {
  app.get(
    '/healthz',
    { schema: { response: { 200: HealthReply, 503: HealthReply } } },
    async (_request, reply) => {
      let db = false;
      try {
        db = opts.dbOk();
      } catch {
        db = false;
      }
      return reply.code(db ? 200 : 503).send({ ok: db, db });
    },
  );
};
