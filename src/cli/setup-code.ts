import { loadConfig, resolveConfigPath } from '../config/loader.js';
import { GwError } from '../core/errors.js';
import { setupCodePath } from '../web/auth/setup-code.js';
import { readSetupInfo } from '../web/auth/setup-status.js';
import type { CommonArgs } from './args.js';
import type { CliIo } from './io.js';

/**
 * `kampung-gw setup-code`: prints the pending one-time setup code from its 0600 file in the
 * data dir, for root or the service user. The daemon never logs it. `--json`: `{ code, file }`.
 * No code pending (a technician exists, or the daemon never started): GW_ERR_NO_SETUP_CODE,
 * exit 1; a file this user may not read: GW_ERR_SETUP_CODE_UNREADABLE, exit 1.
 */
export async function setupCodeCommand(args: CommonArgs, io: CliIo): Promise<number> {
  const { config } = loadConfig(resolveConfigPath(args.config, io.env));
  const file = setupCodePath(config.data_dir);
  const info = readSetupInfo(config.data_dir);
  if (!info)
    throw new GwError(
      'GW_ERR_NO_SETUP_CODE',
      `no setup code in ${file}: a technician account exists already (use \`kampung-gw user add\`), or the daemon has not started yet`,
    );
  if (info.code === null)
    throw new GwError(
      'GW_ERR_SETUP_CODE_UNREADABLE',
      `${file} exists but this user may not read it: run as root (sudo) or as kampung-gw`,
    );
  io.out(args.json ? JSON.stringify({ code: info.code, file }) : info.code);
  return 0;
}
