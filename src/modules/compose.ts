import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../config/schema.js';
import type { Service } from '../core/service.js';
import type { GatewayModule, ModuleProvides, SharedDeps } from './contract.js';

export interface Composition {
  /** Every service of every module, in start order. */
  services: Service[];
  /** What each built module provides, by module name (modules turned off are absent). */
  provided: ReadonlyMap<string, unknown>;
  /** Each module's `reload`, in list order, by module name. */
  reloaders: ReadonlyArray<{ module: string; reload: () => string[] }>;
}

/**
 * The loop of the composition root: builds each module in list order from the shared deps and
 * what the earlier modules provide, and registers what its descriptor declares — services,
 * status parts, operations, restamp targets, routes and bundle parts. Then the operation
 * registry is sealed: nothing is added once the daemon runs.
 */
export function composeModules(
  modules: readonly GatewayModule[],
  config: Config,
  deps: SharedDeps,
): Composition {
  const names = modules.map((m) => m.name);
  if (new Set(names).size !== names.length) throw new Error(`a module is listed twice: ${names.join(', ')}`);
  const provided = new Map<string, unknown>();
  const services: Service[] = [];
  const publicRoutes: FastifyPluginAsync[] = [];
  const technicianRoutes: FastifyPluginAsync[] = [];
  const bundleParts: Record<string, () => unknown> = {};
  const reloaders: Array<{ module: string; reload: () => string[] }> = [];
  /** The module that took the routes (the web module): none may be added after it. */
  let mountedBy: string | undefined;

  modules.forEach((m, index) => {
    const slice = m.slice(config);
    if (slice === undefined) return;
    const lookup = (name: keyof ModuleProvides, required: boolean): unknown => {
      if (!m.needs?.includes(name))
        throw new Error(`module ${m.name} uses ${name} without listing it in needs`);
      const at = names.indexOf(name);
      if (at < 0 || at > index)
        throw new Error(`module ${m.name} needs ${name}, which must be listed before it`);
      if (required && !provided.has(name)) throw new Error(`module ${m.name} needs ${name}, which is off`);
      return provided.get(name);
    };
    const parts = m.build({
      config: slice,
      deps,
      log: (component) => deps.log.child({ component }),
      need: (name) => lookup(name, true) as never,
      optional: (name) => lookup(name, false) as never,
      get earlier() {
        mountedBy = m.name;
        return {
          publicRoutes: [...publicRoutes],
          technicianRoutes: [...technicianRoutes],
          bundleParts: { ...bundleParts },
        };
      },
    });
    const late = [
      parts.publicRoutes,
      parts.technicianRoutes,
      parts.bundleParts && Object.keys(parts.bundleParts),
    ];
    if (mountedBy && mountedBy !== m.name && late.some((x) => x && x.length > 0))
      throw new Error(
        `module ${m.name} adds routes or bundle parts after ${mountedBy} mounted them: list it earlier`,
      );
    provided.set(m.name, parts.provides);
    services.push(...(parts.services ?? []));
    for (const section of parts.status ?? []) deps.status.register(section);
    for (const op of parts.operations ?? []) deps.operations.register(op);
    for (const target of parts.restamp ?? []) deps.restamper.register(target);
    if (parts.reload) reloaders.push({ module: m.name, reload: parts.reload });
    publicRoutes.push(...(parts.publicRoutes ?? []));
    technicianRoutes.push(...(parts.technicianRoutes ?? []));
    for (const [name, get] of Object.entries(parts.bundleParts ?? {})) {
      if (name in bundleParts) throw new Error(`bundle part ${name} declared twice (${m.name})`);
      bundleParts[name] = get;
    }
  });
  deps.operations.seal();
  return { services, provided, reloaders };
}
