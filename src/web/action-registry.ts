import { GwError } from '../core/errors.js';
import { OPERATION_NAME, type Operation, type OperationRegistry, pageArgs } from '../modules/operations.js';

export type { OperationContext as ActionContext } from '../modules/operations.js';

export const ACTION_NAME = OPERATION_NAME;

/**
 * The page's view of the one operation registry: the entries offered as diagnostics or as
 * actions. The web layer only dispatches by exact name: an unknown name is a 404 and nothing
 * reaches a shell. Handlers get validated arguments only.
 */
export class ActionRegistry {
  readonly kind: 'diagnostic' | 'action';
  private readonly operations: OperationRegistry;

  constructor(kind: 'diagnostic' | 'action', operations: OperationRegistry) {
    this.kind = kind;
    this.operations = operations;
  }

  list(): Array<{ name: string; description: string; args: unknown }> {
    return this.operations.list(this.kind).map((op) => ({
      name: op.name,
      description: op.description,
      args: op.args ?? null,
    }));
  }

  /** The entry and its checked arguments, or a typed error (404 unknown, 400 bad args). */
  resolve(
    name: string,
    args: Record<string, unknown>,
  ): { handler: Operation; args: Record<string, unknown> } {
    const handler = this.operations.find(this.kind, name);
    if (!handler) throw new GwError('GW_ERR_NOT_FOUND', `no such ${this.kind}`);
    return { handler, args: pageArgs(handler, args) };
  }
}
