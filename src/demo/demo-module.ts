import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { GwError } from '../core/errors.js';
import { defineModule, type GatewayModule } from '../modules/contract.js';
import { type FiberCutScenario, STEPS } from './scenario.js';
import type { DemoWorld } from './world.js';

const Err = Type.Object({ error: Type.String(), message: Type.String() });
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const Answer = Type.Object({
  kiosk: Type.String(),
  at: Type.String(),
  path: Type.String(),
  status: Type.Integer(),
  cache: Nullable(Type.String()),
  data_date: Nullable(Type.String()),
});
const DemoView = Type.Object({
  demo: Type.Literal(true),
  steps: Type.Array(Type.String()),
  scenario: Type.Object({
    name: Type.String(),
    state: Type.String(),
    factor: Type.Number(),
    step: Nullable(Type.String()),
    steps: Type.Array(
      Type.Object({
        name: Type.String(),
        started: Type.String(),
        ended: Nullable(Type.String()),
        planned_s: Type.Number(),
      }),
    ),
  }),
  regency_url: Type.String(),
  kiosks: Type.Array(Type.Object({ id: Type.String(), powered: Type.Boolean() })),
  answers: Type.Array(Answer),
  last_stale: Type.Union([Answer, Type.Null()]),
  reads: Type.Record(Type.String(), Type.Integer()),
  writes: Type.Object({
    submitted: Type.Integer(),
    queued: Type.Integer(),
    failed: Type.Integer(),
    /** Of the queued ones, how many the upstream has recorded (each key once). */
    queued_delivered: Type.Integer(),
  }),
  upstream: Type.Object({
    up: Type.Boolean(),
    applications: Type.Integer(),
    submissions: Type.Integer(),
    repeats: Type.Integer(),
  }),
});

interface DemoRouteDeps {
  world: DemoWorld;
  scenario: FiberCutScenario;
}

/**
 * GET /api/v1/demo (what the page's demo panel shows) and POST /api/v1/demo/scenario (the
 * page's start button). Mounted only by `kampung-gw demo`: a real gateway has no such routes.
 */
const demoRoutes: FastifyPluginAsyncTypebox<DemoRouteDeps> = async (app, { world, scenario }) => {
  app.get('/api/v1/demo', { schema: { response: { 200: DemoView } } }, async () => {
    const s = world.services;
    const queued = s?.queuedKeys ?? [];
    return {
      demo: true as const,
      steps: [...STEPS],
      scenario: scenario.state,
      regency_url: `http://127.0.0.1:${world.regencyPort}/`,
      kiosks: world.kiosks.map((k) => ({ id: k.id, powered: k.powered })),
      answers: (s?.answers ?? []).slice(-8).reverse(),
      last_stale: s?.lastStale() ?? null,
      reads: s?.stats.byCache ?? {},
      writes: {
        submitted: s?.stats.writes ?? 0,
        queued: s?.stats.queued ?? 0,
        failed: s?.stats.failed ?? 0,
        queued_delivered: queued.filter((k) => world.upstream.hasApplication(k)).length,
      },
      upstream: world.upstream.stats,
    };
  });
  app.post(
    '/api/v1/demo/scenario',
    { schema: { response: { 202: Type.Object({ started: Type.Boolean() }), 409: Err } } },
    async (_request, reply) => {
      if (!scenario.start()) throw new GwError('GW_ERR_CONFLICT', 'the scenario is already running');
      return reply.code(202).send({ started: true });
    },
  );
};

/** The demo's own gateway module: only `kampung-gw demo` lists it (see modulesWith). */
export function demoModule(deps: DemoRouteDeps): GatewayModule {
  return defineModule({
    name: 'demo',
    slice: () => ({}),
    build: () => ({
      provides: undefined,
      technicianRoutes: [async (app) => app.register(demoRoutes, deps)],
    }),
  });
}
