import type { Service } from '../core/service.js';
import type { FamilyModule, ModuleFamily, PartsRegistrar, ProvidedName } from './family.js';

export interface Composition {
  /** Every service of every module, in start order. */
  services: Service[];
  /** What each built module provides, by module name (modules turned off are absent). */
  provided: ReadonlyMap<string, unknown>;
  /** Each module's `reload`, in list order, by module name. */
  reloaders: ReadonlyArray<{ module: string; reload: () => string[] }>;
}

/**
 * The loop of a composition root (the gateway's app.ts, the regency's regency-app.ts): builds
 * each module in list order from the shared deps and what the earlier modules provide, collects
 * its services and reload, and hands the parts only its family knows (status parts, operations,
 * routes...) to the family's registrar. No module may add routes after the one that mounted
 * them. Then the registrar is told the list is done (the gateway seals its operation registry).
 */
export function composeModules<F extends ModuleFamily>(
  modules: readonly FamilyModule<F>[],
  config: F['config'],
  deps: F['deps'],
  registrar: PartsRegistrar<F>,
): Composition {
  const names = modules.map((m) => m.name);
  if (new Set(names).size !== names.length) throw new Error(`a module is listed twice: ${names.join(', ')}`);
  const provided = new Map<string, unknown>();
  const services: Service[] = [];
  const reloaders: Array<{ module: string; reload: () => string[] }> = [];
  /** The module that took the routes (the web module): none may be added after it. */
  let mountedBy: string | undefined;

  modules.forEach((m, index) => {
    const slice = m.slice(config);
    if (slice === undefined) return;
    const lookup = (name: ProvidedName<F>, required: boolean): unknown => {
      if (!m.needs?.includes(name))
        throw new Error(`module ${m.name} uses ${name} without listing it in needs`);
      const at = names.indexOf(name);
      if (at < 0 || at > index)
        throw new Error(`module ${m.name} needs ${name}, which must be listed before it`);
      if (required && !provided.has(name)) throw new Error(`module ${m.name} needs ${name}, which is off`);
      return provided.get(name);
    };
    const {
      provides,
      services: own,
      reload,
      ...parts
    } = m.build({
      config: slice,
      deps,
      log: (component) => deps.log.child({ component }),
      need: (name) => lookup(name, true) as never,
      optional: (name) => lookup(name, false) as never,
      get earlier() {
        mountedBy = m.name;
        return registrar.earlier();
      },
    });
    const familyParts = parts as Partial<F['parts']>;
    if (mountedBy && mountedBy !== m.name && registrar.mounts(familyParts))
      throw new Error(
        `module ${m.name} adds routes or bundle parts after ${mountedBy} mounted them: list it earlier`,
      );
    provided.set(m.name, provides);
    services.push(...(own ?? []));
    if (reload) reloaders.push({ module: m.name, reload });
    registrar.add(m.name, familyParts);
  });
  registrar.done();
  return { services, provided, reloaders };
}
