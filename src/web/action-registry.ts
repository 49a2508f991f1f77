import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { GwError } from '../core/errors.js';

export interface ActionContext {
  args: Record<string, unknown>;
  signal: AbortSignal;
  /** Streams a step to the page (SSE `diag` event) while the run goes on. */
  progress(step: Record<string, unknown>): void;
  actor: string;
}

export interface ActionHandler {
  /** Short English description; the page shows its own translated label when it has one. */
  description: string;
  /** Schema of `args`; without one, args must be empty. */
  args?: TSchema;
  timeoutMs?: number;
  run(ctx: ActionContext): Promise<unknown>;
}

export const ACTION_NAME = '^[a-z][a-z0-9-]{0,39}$';
const NAME_RE = new RegExp(ACTION_NAME);

/**
 * An allow-list of named diagnostics or actions that modules fill at composition time. The
 * web layer only dispatches by exact name: an unknown name is a 404 and nothing reaches a
 * shell. Handlers get validated arguments only.
 */
export class ActionRegistry {
  readonly kind: 'diagnostic' | 'action';
  private readonly handlers = new Map<string, ActionHandler>();

  constructor(kind: 'diagnostic' | 'action') {
    this.kind = kind;
  }

  register(name: string, handler: ActionHandler): void {
    if (!NAME_RE.test(name)) throw new Error(`invalid ${this.kind} name: ${name}`);
    if (this.handlers.has(name)) throw new Error(`${this.kind} ${name} registered twice`);
    this.handlers.set(name, handler);
  }

  list(): Array<{ name: string; description: string; args: unknown }> {
    return [...this.handlers].map(([name, h]) => ({
      name,
      description: h.description,
      args: h.args ?? null,
    }));
  }

  /** The handler and its checked arguments, or a typed error (404 unknown, 400 bad args). */
  resolve(
    name: string,
    args: Record<string, unknown>,
  ): { handler: ActionHandler; args: Record<string, unknown> } {
    const handler = this.handlers.get(name);
    if (!handler) throw new GwError('GW_ERR_NOT_FOUND', `no such ${this.kind}`);
    if (!handler.args) {
      if (Object.keys(args).length > 0) throw new GwError('GW_ERR_VALIDATION', `${name} takes no arguments`);
      return { handler, args };
    }
    const withDefaults = Value.Default(handler.args, structuredClone(args)) as Record<string, unknown>;
    if (!Value.Check(handler.args, withDefaults)) {
      const first = Value.Errors(handler.args, withDefaults).First();
      throw new GwError('GW_ERR_VALIDATION', `args${first?.path ?? ''}: ${first?.message ?? 'invalid'}`);
    }
    return { handler, args: withDefaults };
  }
}
