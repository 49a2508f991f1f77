import type { Logger } from '../core/logger.js';

export const MAX_COMMAND_BYTES = 8 * 1024;

export type CommandErrorCode =
  | 'unknown_command'
  | 'malformed'
  | 'too_large'
  | 'bad_args'
  | 'not_available'
  | 'failed';

export class CommandError extends Error {
  readonly code: CommandErrorCode;
  constructor(code: CommandErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** A handler validates its own args (throw CommandError('bad_args')) and returns JSON-able data. */
export type CommandHandler = (args: Record<string, unknown>) => Promise<unknown> | unknown;

export interface CommandReply {
  id: string | null;
  ok: boolean;
  result?: unknown;
  error?: { code: CommandErrorCode; message: string };
}

const ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;
const NAME_RE = /^[a-z][a-z0-9-]{0,63}$/;

/**
 * The allow-list of remote commands. Modules register handlers by name; anything else is an
 * error reply. Handlers are plain functions: no command string ever reaches a shell.
 */
export class CommandRegistry {
  private readonly handlers = new Map<string, CommandHandler>();
  private readonly log: Logger;

  constructor(deps: { log: Logger }) {
    this.log = deps.log;
  }

  register(name: string, handler: CommandHandler): void {
    if (!NAME_RE.test(name)) throw new Error(`invalid command name ${name}`);
    this.handlers.set(name, handler);
  }

  names(): string[] {
    return [...this.handlers.keys()].sort();
  }

  /** Parses and runs one request; never throws. */
  async handle(name: string, payload: Buffer): Promise<CommandReply> {
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
    const handler = NAME_RE.test(name) ? this.handlers.get(name) : undefined;
    if (!handler) return this.refuse(id, name, 'unknown_command', 'not an allow-listed command');
    try {
      const result = await handler((args ?? {}) as Record<string, unknown>);
      this.log.info({ command: name, id }, 'remote command done');
      return { id, ok: true, result: result ?? null };
    } catch (err) {
      if (err instanceof CommandError) return this.refuse(id, name, err.code, err.message);
      this.log.error({ err, command: name, id }, 'remote command failed');
      return { id, ok: false, error: { code: 'failed', message: 'command failed' } };
    }
  }

  private refuse(id: string | null, name: string, code: CommandErrorCode, message: string): CommandReply {
    this.log.warn({ command: name.slice(0, 64), id, code }, 'remote command refused');
    return { id, ok: false, error: { code, message } };
  }
}
