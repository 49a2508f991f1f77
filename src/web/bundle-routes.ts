import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { redactConfig } from '../config/redact.js';
import { wibStamp } from '../core/wib.js';
import type { TechnicianDeps } from './technician-context.js';

/**
 * GET /api/v1/bundle: one JSON file the technician downloads and sends to the regency —
 * status, alerts, outages/probe history when the uplink module provides them, the config
 * without secrets, and recent log lines. No personal data: none of these hold any.
 */
export const bundleRoutes: FastifyPluginAsyncTypebox<{ d: TechnicianDeps }> = async (app, { d }) => {
  app.get(
    '/api/v1/bundle',
    { schema: { response: { 200: Type.Object({}, { additionalProperties: true }) } } },
    async (request, reply) => {
      const now = d.clock.wallMs();
      const parts: Record<string, unknown> = {};
      for (const [name, get] of Object.entries(d.bundleParts)) {
        try {
          parts[name] = await get();
        } catch (err) {
          parts[name] = { error: (err as Error).message };
        }
      }
      const bundle = {
        kind: 'kampung-gateway diagnostic bundle',
        generated_at: new Date(now).toISOString(),
        clock_synced: d.clock.synced(),
        status: d.status.snapshot(),
        alerts: d.alerts.recent(200),
        ...parts,
        config: redactConfig(d.config),
        logs: d.logRing?.lines('debug', 500).map((l) => l.line) ?? [],
      };
      d.auth.audit.add({
        actor: request.technician?.name ?? null,
        action: 'bundle',
        outcome: 'ok',
        source: request.ip,
      });
      const stamp = wibStamp(now);
      return reply
        .header(
          'content-disposition',
          `attachment; filename="kampung-gw-${d.config.gateway.id}-${stamp}.json"`,
        )
        .header('cache-control', 'no-store')
        .send(bundle);
    },
  );
};
