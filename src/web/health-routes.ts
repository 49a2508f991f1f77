import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { readVersion } from '../version.js';

export interface HealthRoutesOptions {
  /** True when the database answers. Nothing here may depend on the uplink or the broker. */
  dbOk(): boolean;
  /**
   * Whether the regency broker is connected, when the gateway reports over MQTT. Shown, never
   * part of the status code: `kampung-gw upgrade` compares it before and after (an upgrade must
   * not leave a reporting box silent), while liveness stays independent of the uplink.
   */
  mqttConnected?(): boolean;
}

/**
 * `version` lets `kampung-gw upgrade` tell the new release's answer from the old one's. The
 * store opens (and migrates) before HTTP listens, so any answer means the schema is current.
 */
const HealthReply = Type.Object({
  ok: Type.Boolean(),
  db: Type.Boolean(),
  version: Type.String(),
  mqtt: Type.Optional(Type.Boolean()),
});

export const healthRoutes: FastifyPluginAsyncTypebox<HealthRoutesOptions> = async (app, opts) => {
  const version = readVersion();
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
      const mqtt = opts.mqttConnected ? { mqtt: opts.mqttConnected() } : {};
      return reply.code(db ? 200 : 503).send({ ok: db, db, version, ...mqtt });
    },
  );
};
