import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { redactConfig } from '../../config/redact.js';
import { GwError } from '../../core/errors.js';
import { isOperatorCommand, OPERATOR_COMMANDS } from '../../report/command-names.js';
import { MAX_COMMAND_BYTES } from '../../report/commands.js';
import { requireRole } from '../auth/roles.js';
import type { AuditRepo } from '../store/audit-repo.js';
import type { VillageRegistry } from '../villages.js';
import type { CommandClient } from './command-client.js';

export interface CommandRouteDeps {
  client: CommandClient;
  audit: AuditRepo;
  registry: VillageRegistry;
  timeoutMs: number;
  wallMs(): number;
  /** Who sends: the signed-in account once the page's guard runs in front; else 'anonymous'. */
  actor(request: FastifyRequest): string;
}

const CODE = /^[0-9]{10}$/;

/**
 * POST /api/v1/villages/{code}/commands/{name} `{ args? }`: an allow-listed command, sent and
 * awaited: 200 `{ id, ok, result | error }` (the village's answer, refusals included), 504
 * GW_ERR_COMMAND_TIMEOUT when no answer came in time, 503 when the broker is unreachable.
 * Audited with the args redacted. GET …/commands lists the village's audit, newest first.
 */
export function commandRoutes(d: CommandRouteDeps): FastifyPluginAsync {
  return async (app) => {
    app.post('/api/v1/villages/:code/commands/:name', async (request, reply) => {
      const { code, name } = request.params as { code: string; name: string };
      // Viewers see the wall and reports; sending anything to a village takes an operator.
      requireRole(request.account, 'operator');
      await checkVillage(d, code);
      if (!isOperatorCommand(name))
        throw new GwError(
          'GW_ERR_VALIDATION',
          `not an allow-listed command (${OPERATOR_COMMANDS.join(', ')})`,
        );
      const args = argsOf(request.body);
      const id = d.client.newId();
      await d.audit.begin({
        id,
        atMs: d.wallMs(),
        actor: d.actor(request),
        gw: code,
        name,
        args: redactConfig(args),
      });
      let outcome: Awaited<ReturnType<CommandClient['send']>>;
      try {
        outcome = await d.client.send(id, code, name, args, d.timeoutMs);
      } catch (err) {
        await d.audit.finish(id, 'unsent', undefined, d.wallMs());
        throw err;
      }
      if (!outcome.answered) {
        await d.audit.finish(id, 'timeout', undefined, d.wallMs());
        throw new GwError('GW_ERR_COMMAND_TIMEOUT', `no answer from ${code} within ${d.timeoutMs / 1000} s`, {
          details: { id },
        });
      }
      const answer = outcome.reply;
      await d.audit.finish(id, answer.ok ? 'ok' : 'error', answer, d.wallMs());
      return reply.header('cache-control', 'no-store').send({ id, ...answer });
    });
    app.get('/api/v1/villages/:code/commands', async (request, reply) => {
      const { code } = request.params as { code: string };
      await checkVillage(d, code);
      return reply.header('cache-control', 'no-store').send(await d.audit.list(code, 200));
    });
  };
}

async function checkVillage(d: CommandRouteDeps, code: string): Promise<void> {
  if (!CODE.test(code)) throw new GwError('GW_ERR_VALIDATION', 'village code must be 10 digits');
  if (!d.registry.get(code) && !(await d.audit.villageSeen(code)))
    throw new GwError('GW_ERR_NOT_FOUND', `no village ${code}`);
}

function argsOf(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body))
    throw new GwError('GW_ERR_VALIDATION', 'body must be an object { args? }');
  const { args, ...rest } = body as Record<string, unknown>;
  if (Object.keys(rest).length > 0) throw new GwError('GW_ERR_VALIDATION', 'only args is allowed');
  if (args === undefined) return {};
  if (args === null || typeof args !== 'object' || Array.isArray(args))
    throw new GwError('GW_ERR_VALIDATION', 'args must be an object');
  if (Buffer.byteLength(JSON.stringify(args)) > MAX_COMMAND_BYTES - 200)
    throw new GwError('GW_ERR_VALIDATION', 'args too large');
  return args as Record<string, unknown>;
}
