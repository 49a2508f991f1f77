import { loadConfig, resolveConfigPath } from '../config/loader.js';
import { createLogger } from '../core/logger.js';
import { formatStatus } from '../status/format.js';
import { readStatus } from '../status/read-status.js';
import { readVersion } from '../version.js';
import type { CommonArgs } from './args.js';
import type { CliIo } from './io.js';

export async function statusCommand(args: CommonArgs, io: CliIo): Promise<number> {
  const { config } = loadConfig(resolveConfigPath(args.config, io.env));
  const log = createLogger({ level: 'warn', destination: process.stderr });
  const status = await readStatus(config, readVersion(), log);
  io.out(args.json ? JSON.stringify(status, null, 2) : formatStatus(status));
  return 0;
}
