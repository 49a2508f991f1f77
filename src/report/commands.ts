import type { Logger } from '../core/logger.js';
import {
  checkArgs,
  type LaterReplies,
  OperationError,
  type OperationErrorCode,
  type OperationRegistry,
} from '../modules/operations.js';

export const MAX_COMMAND_BYTES = 8 * 1024;

export type CommandErrorCode =
  | 'unknown_command'
  | 'malformed'
  | 'too_large'
  | 'bad_response_topic'
  | 'busy'
  | OperationErrorCode;

/** The commands' refusal is the operations' one (a handler throws it with `bad_args` etc.). */
export { OperationError as CommandError };

export interface CommandReply {
  id: string | null;
  ok: boolean;
  result?: unknown;
  error?: { code: CommandErrorCode; message: string };
}

const ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;
const NAME_RE = /^[a-z][a-z0-9-]{0,63}$/;

const NO_SIGNAL = new AbortController().signal;

/**
 * The MQTT face of the one operation registry: the entries offered as commands, by exact
 * name; anything else is an error reply. Handlers are plain functions: no command string ever
 * reaches a shell.
 */
export class CommandRegistry {
  private readonly operations: OperationRegistry;
  private readonly log: Logger;

  constructor(deps: { log: Logger; operations: OperationRegistry }) {
    this.log = deps.log;
    this.operations = deps.operations;
  }

  names(): string[] {
    return this.operations
      .list('mqtt')
      .map((op) => op.name)
      .sort();
  }

  /**
   * Parses and runs one request; never throws. `channel` (the responder's) is where further
   * replies to the same request go, for the operations that send them.
   */
  async handle(
    name: string,
    payload: Buffer,
    channel?: { topic: string; correlation?: Buffer; publish(reply: CommandReply): boolean },
  ): Promise<CommandReply> {
    if (payload.length > MAX_COMMAND_BYTES)
      return this.refuse(null, name, 'too_large', `request over ${MAX_COMMAND_BYTES} bytes`);
    let req: unknown;
    try {
      req = JSON.parse(payload.toString('utf8'));
    } catch {
      return this.refuse(null, name, 'malformed', 'request is not JSON');
    }
    if (req === null || typeof req !== 'object' || Array.isArray(req))
      return this.refuse(null, name, 'malformed', 'request must be an object { id, args }');
    const { id, args, ...rest } = req as Record<string, unknown>;
    if (typeof id !== 'string' || !ID_RE.test(id))
      return this.refuse(null, name, 'malformed', 'id must be a string of 1-128 [A-Za-z0-9._:-]');
    if (Object.keys(rest).length > 0)
      return this.refuse(id, name, 'malformed', 'only id and args are allowed');
    if (args !== undefined && (args === null || typeof args !== 'object' || Array.isArray(args)))
      return this.refuse(id, name, 'malformed', 'args must be an object');
    const op = NAME_RE.test(name) ? this.operations.find('mqtt', name) : undefined;
    if (!op) return this.refuse(id, name, 'unknown_command', 'not an allow-listed command');
    const checked = checkArgs(op, (args ?? {}) as Record<string, unknown>);
    if (!checked.ok) return this.refuse(id, name, 'bad_args', checked.message);
    const later: LaterReplies | undefined = channel && {
      address: {
        id,
        topic: channel.topic,
        ...(channel.correlation ? { correlation: channel.correlation.toString('base64') } : {}),
      },
      send: (r) => channel.publish({ id, ...r } as CommandReply),
    };
    try {
      const result = await op.run({
        args: checked.args,
        signal: NO_SIGNAL,
        progress: () => undefined,
        actor: 'regency',
        ...(later ? { later } : {}),
      });
      this.log.info({ command: name, id }, 'remote command done');
      return { id, ok: true, result: result ?? null };
    } catch (err) {
      if (err instanceof OperationError) return this.refuse(id, name, err.code, err.message);
      this.log.error({ err, command: name, id }, 'remote command failed');
      return { id, ok: false, error: { code: 'failed', message: 'command failed' } };
    }
  }

  /** The request's id if the payload is a well-formed request, else null (for refusals). */
  requestId(payload: Buffer): string | null {
    if (payload.length > MAX_COMMAND_BYTES) return null;
    try {
      const id = (JSON.parse(payload.toString('utf8')) as { id?: unknown } | null)?.id;
      return typeof id === 'string' && ID_RE.test(id) ? id : null;
    } catch {
      return null;
    }
  }

  /** An error reply, logged (name clipped, never the payload). */
  refuse(id: string | null, name: string, code: CommandErrorCode, message: string): CommandReply {
    this.log.warn({ command: name.slice(0, 64), id, code }, 'remote command refused');
    return { id, ok: false, error: { code, message } };
  }
}
