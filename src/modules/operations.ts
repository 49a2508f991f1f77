import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { GwError } from '../core/errors.js';

export type OperationErrorCode = 'bad_args' | 'not_available' | 'failed';

/**
 * A refusal with a code the caller can act on: over MQTT it becomes the reply's error code,
 * on the page its message. Anything else thrown is answered as `failed` without details.
 */
export class OperationError extends Error {
  readonly code: OperationErrorCode;
  constructor(code: OperationErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export interface OperationContext {
  args: Record<string, unknown>;
  signal: AbortSignal;
  /** Streams a step to the page (SSE `diag` event) while the run goes on; a no-op over MQTT. */
  progress(step: Record<string, unknown>): void;
  /** The technician's name on the page; `regency` over MQTT. */
  actor: string;
  /**
   * Over MQTT only: further replies to this request after the first (the one `run` returns),
   * for a command whose work outlives it (`upgrade`: the download's progress, the outcome).
   */
  later?: LaterReplies;
}

/** Where a command's replies go: kept, so a later process (after a restart) can answer too. */
export interface ReplyAddress {
  /** The request's id. */
  id: string;
  topic: string;
  /** The MQTT 5 correlation data of the request, base64. */
  correlation?: string;
}

export interface LaterReplies {
  readonly address: ReplyAddress;
  /** Publishes `{ id, ok, result | error }` now; false when the broker is not connected. */
  send(reply: { ok: boolean; result?: unknown; error?: { code: string; message: string } }): boolean;
}

/**
 * One thing an operator may run, declared once and offered on the faces it names: the page
 * (as an action or a diagnostic) and/or MQTT `cmd/{name}`. Because the page and the regency
 * read the same entry, one name can never mean two different things.
 */
export interface Operation {
  name: string;
  /** Short English description; the page shows its own translated label when it has one. */
  description: string;
  /** On the technician page: under actions (changes something) or diagnostics (only looks). */
  page?: 'action' | 'diagnostic';
  /** Offered to the regency as an MQTT command. */
  mqtt?: boolean;
  /**
   * Schema of `args`, checked on both faces. Without one the page accepts no arguments and an
   * MQTT command gets its args as sent (the handler checks them and throws `bad_args`).
   */
  args?: TSchema;
  /** Deadline of one page run (default 60 s). */
  timeoutMs?: number;
  run(ctx: OperationContext): Promise<unknown> | unknown;
}

export const OPERATION_NAME = '^[a-z][a-z0-9-]{0,39}$';
const NAME_RE = new RegExp(OPERATION_NAME);

/**
 * The one allow-list of operations. The composition root registers every module's entries,
 * then seals it before anything starts; the page and the MQTT responder only look up by
 * exact name, so nothing else is reachable and no argument reaches a shell.
 */
export class OperationRegistry {
  private readonly entries = new Map<string, Operation>();
  private sealed = false;

  register(op: Operation): void {
    if (this.sealed) throw new Error(`operation ${op.name} registered after the registry was sealed`);
    if (!NAME_RE.test(op.name)) throw new Error(`invalid operation name: ${op.name}`);
    if (this.entries.has(op.name)) throw new Error(`operation ${op.name} registered twice`);
    if (!op.page && !op.mqtt) throw new Error(`operation ${op.name} is offered nowhere`);
    this.entries.set(op.name, op);
  }

  /** No more registrations: called once every module is built. */
  seal(): void {
    this.sealed = true;
  }

  /** The entries of one face, in registration order. */
  list(face: 'action' | 'diagnostic' | 'mqtt'): Operation[] {
    return [...this.entries.values()].filter((op) => (face === 'mqtt' ? op.mqtt === true : op.page === face));
  }

  /** The entry of this face by name, or undefined (also for a name only offered elsewhere). */
  find(face: 'action' | 'diagnostic' | 'mqtt', name: string): Operation | undefined {
    const op = this.entries.get(name);
    if (!op) return undefined;
    return (face === 'mqtt' ? op.mqtt === true : op.page === face) ? op : undefined;
  }
}

/** The arguments with schema defaults applied, or the first problem as a message. */
export function checkArgs(
  op: Operation,
  args: Record<string, unknown>,
): { ok: true; args: Record<string, unknown> } | { ok: false; message: string } {
  if (!op.args) return { ok: true, args };
  const withDefaults = Value.Default(op.args, structuredClone(args)) as Record<string, unknown>;
  if (Value.Check(op.args, withDefaults)) return { ok: true, args: withDefaults };
  const first = Value.Errors(op.args, withDefaults).First();
  return { ok: false, message: `args${first?.path ?? ''}: ${first?.message ?? 'invalid'}` };
}

/** Page faces throw typed HTTP errors; kept here so both faces share `checkArgs`. */
export function pageArgs(op: Operation, args: Record<string, unknown>): Record<string, unknown> {
  if (!op.args && Object.keys(args).length > 0)
    throw new GwError('GW_ERR_VALIDATION', `${op.name} takes no arguments`);
  const checked = checkArgs(op, args);
  if (!checked.ok) throw new GwError('GW_ERR_VALIDATION', checked.message);
  return checked.args;
}
