import { loadConfig, resolveConfigPath } from '../config/loader.js';
import { createLogger } from '../core/logger.js';
import { readVersion } from '../version.js';
import { formatSetupInfo, readSetupInfo } from '../web/auth/setup-status.js';
import type { CommonArgs } from './args.js';
import type { CliIo } from './io.js';
import { readStatus } from './read-status.js';
import { formatStatus } from './status-format.js';

export async function statusCommand(args: CommonArgs, io: CliIo): Promise<number> {
  const { config } = loadConfig(resolveConfigPath(args.config, io.env));
  const log = createLogger({ level: 'warn', destination: process.stderr });
  const status = await readStatus(config, readVersion(), log);
  // The setup code is shown here only, never put in the status object (which goes to MQTT).
  const setup = readSetupInfo(config.data_dir);
  if (args.json) io.out(JSON.stringify(setup ? { ...status, setup } : status, null, 2));
  else io.out(setup ? `${formatStatus(status)}\n${formatSetupInfo(setup)}` : formatStatus(status));
  return 0;
}
