import { CommandClient } from '../commands/command-client.js';
import { commandRoutes } from '../commands/command-routes.js';
import { AuditRepo } from '../store/audit-repo.js';
import { defineRegencyModule } from './contract.js';

export interface CommandsProvides {
  client: CommandClient;
  /** Every command sent, by whom, and its answer (gap repair writes here too). */
  audit: AuditRepo;
}

declare module './contract.js' {
  interface RegencyProvides {
    commands: CommandsProvides;
  }
}

/** Commands to one village over MQTT (`cmd/<name>`), from the village page, audited. */
export const commandsModule = defineRegencyModule({
  name: 'commands',
  slice: (c) => ({ mqtt: c.mqtt, timeoutMs: c.commands.timeout_s * 1000 }),
  build: ({ config, deps, log }) => {
    const client = new CommandClient({
      config: config.mqtt,
      log: log('commands'),
      scheduler: deps.scheduler,
    });
    const audit = new AuditRepo({ db: deps.store.db });
    return {
      provides: { client, audit },
      services: [client],
      accountRoutes: [
        commandRoutes({
          client,
          audit,
          registry: deps.registry,
          timeoutMs: config.timeoutMs,
          wallMs: () => deps.clock.wallMs(),
          // The guard has set the account by the time a command route runs.
          actor: (request) => request.account?.name ?? 'anonymous',
        }),
      ],
    };
  },
});
