import { randomUUID } from 'node:crypto';
import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { GwError } from '../core/errors.js';
import { ACTION_NAME, type ActionRegistry } from './action-registry.js';
import type { TechnicianDeps } from './technician-context.js';

const Err = Type.Object({ error: Type.String(), message: Type.String() });
const Listing = Type.Object({
  items: Type.Array(Type.Object({ name: Type.String(), description: Type.String(), args: Type.Unknown() })),
});
const RunReply = Type.Object({
  id: Type.String(),
  name: Type.String(),
  ok: Type.Boolean(),
  ms: Type.Integer(),
  result: Type.Optional(Type.Unknown()),
  error: Type.Optional(Type.String()),
});
const Body = Type.Object(
  {
    args: Type.Optional(
      Type.Record(
        Type.String({ maxLength: 40 }),
        Type.Union([Type.String({ maxLength: 512 }), Type.Number(), Type.Boolean()]),
        { maxProperties: 16 },
      ),
    ),
  },
  { additionalProperties: false },
);
const DEFAULT_TIMEOUT_MS = 60_000;

/**
 * POST /api/v1/diagnostics/{name} and /api/v1/actions/{name}: dispatch by exact name through
 * an allow-list. Steps stream to the page over SSE (`diag` events) and the final result is the
 * reply. One run per name at a time; each is audited.
 */
export const actionRoutes: FastifyPluginAsyncTypebox<{ d: TechnicianDeps }> = async (app, { d }) => {
  const running = new Set<string>();

  const mount = (path: string, registry: ActionRegistry) => {
    app.get(`/api/v1/${path}`, { schema: { response: { 200: Listing } } }, async () => ({
      items: registry.list(),
    }));
    app.post(
      `/api/v1/${path}/:name`,
      {
        schema: {
          params: Type.Object({ name: Type.String({ pattern: ACTION_NAME }) }),
          body: Type.Optional(Body),
          response: { 200: RunReply, 400: Err, 403: Err, 404: Err, 409: Err },
        },
      },
      async (request) => {
        const { name } = request.params;
        const { handler, args } = registry.resolve(name, request.body?.args ?? {});
        const key = `${path}/${name}`;
        if (running.has(key)) throw new GwError('GW_ERR_CONFLICT', `${name} is already running`);
        running.add(key);
        const id = randomUUID();
        const actor = request.technician?.name ?? '?';
        const controller = new AbortController();
        const t0 = d.clock.monoMs();
        // Bounded by the client too: a closed connection aborts the run.
        const onClose = () => controller.abort(new Error('client went away'));
        request.raw.socket?.once('close', onClose);
        const deadline = setTimeoutBox(controller, handler.timeoutMs ?? DEFAULT_TIMEOUT_MS);
        try {
          const result = await handler.run({
            args,
            signal: controller.signal,
            actor,
            progress: (step) => d.live.broadcast('diag', { id, kind: registry.kind, name, step }),
          });
          const ms = Math.round(d.clock.monoMs() - t0);
          d.auth.audit.add({ actor, action: `${registry.kind}:${name}`, outcome: 'ok', source: request.ip });
          d.live.broadcast('diag', { id, kind: registry.kind, name, done: true, ok: true, ms });
          return { id, name, ok: true, ms, result: result ?? null };
        } catch (err) {
          const ms = Math.round(d.clock.monoMs() - t0);
          const message = controller.signal.aborted ? 'timed out or cancelled' : (err as Error).message;
          d.auth.audit.add({
            actor,
            action: `${registry.kind}:${name}`,
            outcome: 'failed',
            source: request.ip,
          });
          d.log.warn({ err, name, kind: registry.kind }, 'technician run failed');
          d.live.broadcast('diag', { id, kind: registry.kind, name, done: true, ok: false, ms });
          return { id, name, ok: false, ms, error: message };
        } finally {
          deadline.cancel();
          request.raw.socket?.off('close', onClose);
          running.delete(key);
        }
      },
    );
  };
  mount('diagnostics', d.diagnostics);
  mount('actions', d.actions);

  function setTimeoutBox(controller: AbortController, ms: number) {
    return d.scheduler.after('technician-run-deadline', ms, () => controller.abort(new Error('deadline')));
  }
};
