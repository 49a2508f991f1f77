import type { Logger } from '../core/logger.js';
import type { Service } from '../core/service.js';

/**
 * The types one composition root plugs its modules in with. The gateway (`contract.ts`) and
 * the regency (`src/regency/modules/contract.ts`) are two families: each names its whole
 * config, its shared deps, what its modules hand to each other, the parts only its modules
 * declare (status parts, operations, guarded routes...) and what its mounting module reads.
 */
export interface ModuleFamily {
  /** The whole config the modules take their slices from. */
  config: unknown;
  /** Everything shared, built once by the composition root before any module. */
  deps: { log: Logger };
  /** Module name → what it provides to later modules (filled by declaration merging). */
  provides: object;
  /** The parts only this family's modules declare; the family's registrar takes them. */
  parts: object;
  /** What the mounting module (the web module) reads as `earlier`. */
  earlier: object;
}

export type ProvidedName<F extends ModuleFamily> = keyof F['provides'] & string;

export interface FamilyContext<F extends ModuleFamily, S> {
  /** This module's slice of the config (what `slice()` returned). */
  config: S;
  deps: F['deps'];
  /** A child logger per component: `log('cache')`. */
  log(component: string): Logger;
  /** What an earlier module provides; it must be in `needs` and listed before this module. */
  need<K extends ProvidedName<F>>(name: K): F['provides'][K];
  /** Same, or undefined when that module is off in this build (no `mqtt` section → no report). */
  optional<K extends ProvidedName<F>>(name: K): F['provides'][K] | undefined;
  /** Routes and parts of the modules listed before this one (read by the mounting module). */
  earlier: F['earlier'];
}

/** What a built module of any family declares; `P` is what it provides. */
export interface CoreParts<P> {
  /** Handed to later modules through `need(name)`/`optional(name)` and exposed on the app. */
  provides: P;
  /** Started in this order after the services of earlier modules; stopped in reverse. */
  services?: Service[];
  /**
   * Re-reads this module's secret files now (SIGHUP, `systemctl reload`). Returns what could
   * not be read (file paths or ids, never contents); an unreadable file keeps the last value.
   */
  reload?(): string[];
}

export type FamilyParts<F extends ModuleFamily, P> = CoreParts<P> & Partial<F['parts']>;

/** One capability, described once: `S` is its config slice, `P` what it provides. */
export interface FamilyDescriptor<F extends ModuleFamily, S, P> {
  readonly name: string;
  /** Modules whose `provides` this one uses; each must be listed before it. */
  readonly needs?: readonly ProvidedName<F>[];
  /** The part of the config this module takes; undefined turns the module off in this build. */
  slice(config: F['config']): S | undefined;
  build(ctx: FamilyContext<F, S>): FamilyParts<F, P>;
}

/** A descriptor as a composition list holds it (its slice and provides types erased). */
export type FamilyModule<F extends ModuleFamily> = FamilyDescriptor<F, unknown, unknown>;

/** Checks one descriptor's slice and build against each other and erases their types. */
export function eraseModule<F extends ModuleFamily, S, P>(d: FamilyDescriptor<F, S, P>): FamilyModule<F> {
  return {
    name: d.name,
    needs: d.needs,
    slice: (config) => d.slice(config),
    build: (ctx) => d.build(ctx as FamilyContext<F, S>),
  };
}

/**
 * How one family takes the parts only its modules declare, called by the composition loop
 * (compose.ts) for each built module in list order.
 */
export interface PartsRegistrar<F extends ModuleFamily> {
  /** Registers one built module's own parts (status sections, operations, routes...). */
  add(module: string, parts: Partial<F['parts']>): void;
  /** True when these parts hold something the mounting module takes (routes, bundle parts). */
  mounts(parts: Partial<F['parts']>): boolean;
  /** What the mounting module reads as `earlier`: what the modules before it added. */
  earlier(): F['earlier'];
  /** Once every module is built (the gateway seals its operation registry). */
  done(): void;
}
