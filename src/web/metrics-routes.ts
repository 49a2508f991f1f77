import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';

export interface MetricsSource {
  readonly contentType: string;
  render(): Promise<string | undefined>;
}

const ErrorReply = Type.Object({ error: Type.String(), message: Type.String() });

/** GET /metrics (Prometheus text). Only registered when `http.metrics` is on; else 404. */
export const metricsRoutes: FastifyPluginAsyncTypebox<{ metrics: MetricsSource }> = async (app, opts) => {
  app.get(
    '/metrics',
    { schema: { response: { 200: Type.String(), 503: ErrorReply } } },
    async (_request, reply) => {
      const text = await opts.metrics.render();
      if (text === undefined) {
        return reply.code(503).send({ error: 'GW_ERR_UNAVAILABLE', message: 'metrics are not ready yet' });
      }
      return reply.code(200).type(opts.metrics.contentType).send(text);
    },
  );
};
