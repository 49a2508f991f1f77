import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { resolveConfigPath } from '../config/loader.js';
import { GwError } from '../core/errors.js';
import { type Fetched, fetchBundle } from '../system/provision/fetch-bundle.js';
import { installBundle } from '../system/provision/install-bundle.js';
import { readBundle } from '../system/provision/read-bundle.js';
import type { CommonArgs } from './args.js';
import { checkConfigCommand } from './check-config.js';
import { doctorCommand } from './doctor.js';
import type { CliIo } from './io.js';
import { readPassword } from './read-password.js';

const SERVICE_GROUP = 'kampung-gw';

/**
 * `kampung-gw provision DIR [--config F] [--root R]`: installs a village bundle on a box, then
 * runs check-config and doctor. `--root R`: the box's file system is staged under R (an SD
 * card mounted on a laptop): the config is R + its path, nothing is chowned, and doctor,
 * which would examine this machine instead of the box, is left for the box.
 */
export async function provisionBoxCommand(args: CommonArgs, io: CliIo): Promise<number> {
  if (args.from !== undefined) return fetchAndInstall(args, io);
  const [dir, ...extra] = args.positionals;
  if (!dir || extra.length > 0 || args.code !== undefined || args.codeFile !== undefined)
    throw new GwError('GW_ERR_USAGE', USAGE);
  return install(dir, args, io);
}

const USAGE =
  'usage: kampung-gw provision DIR [--config F] [--root R]\n' +
  '       kampung-gw provision --from URL (--code-file F | --code -) (--ca FILE | --fingerprint SHA256) [--config F] [--root R]';

/** The bundle fetched once with a one-time code into a private temp folder, installed, removed. */
async function fetchAndInstall(args: CommonArgs, io: CliIo): Promise<number> {
  if ((args.code === undefined) === (args.codeFile === undefined) || args.positionals.length > 0)
    throw new GwError('GW_ERR_USAGE', USAGE);
  let fetched: Fetched;
  try {
    const code = await oneTimeCode(args, io);
    fetched = await fetchBundle({
      url: args.from as string,
      code,
      ...(args.ca ? { caFile: args.ca } : {}),
      ...(args.fingerprint ? { fingerprint: args.fingerprint } : {}),
    });
  } catch (err) {
    if (err instanceof GwError && err.code !== 'GW_ERR_USAGE') {
      io.err(err.message);
      return 1;
    }
    throw err;
  }
  try {
    io.out(`bundle fetched from ${new URL(args.from as string).host}`);
    return await install(fetched.dir, args, io);
  } finally {
    fetched.cleanup();
  }
}

/**
 * The one-time code from `--code-file F`, or stdin with `--code -` (or `--code-file -`); a code
 * on the command line still works, with a warning: every user of the box can read it in `ps`
 * and the shell keeps it in its history. The code itself is never printed.
 */
async function oneTimeCode(args: CommonArgs, io: CliIo): Promise<string> {
  const from = args.codeFile ?? (args.code === '-' ? '-' : undefined);
  if (from === undefined) {
    io.err(
      'warning: --code shows the one-time code to every user of this box (ps, shell history); ' +
        'use --code-file F or --code - (stdin)',
    );
    return args.code as string;
  }
  let text: string;
  try {
    // A terminal asks without echo; a pipe gives its first line.
    text =
      from === '-'
        ? await readPassword(io, 'Kode sekali pakai / one-time code: ')
        : readFileSync(from, 'utf8');
  } catch (err) {
    throw new GwError(
      'GW_ERR_SECRET_UNREADABLE',
      `cannot read the one-time code from ${from === '-' ? 'stdin' : from}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  const code =
    text
      .split(/\r?\n/)
      .find((l) => l.trim() !== '')
      ?.trim() ?? '';
  if (code === '') throw new GwError('GW_ERR_USAGE', `no one-time code in ${from === '-' ? 'stdin' : from}`);
  return code;
}

async function install(dir: string, args: CommonArgs, io: CliIo): Promise<number> {
  const boxConfig = resolveConfigPath(args.config, io.env);
  const configFile = args.root ? join(resolve(args.root), boxConfig) : boxConfig;
  const gid = args.root || process.getuid?.() !== 0 ? undefined : groupId(SERVICE_GROUP);

  let installed: ReturnType<typeof installBundle>;
  let username: string;
  try {
    const bundle = readBundle(resolve(dir));
    username = bundle.mqtt.username;
    installed = installBundle(bundle, {
      configFile,
      ...(gid === undefined ? {} : { serviceGid: gid }),
    });
  } catch (err) {
    if (err instanceof GwError && err.code === 'GW_ERR_VALIDATION') {
      io.err(err.message);
      return 1;
    }
    throw err;
  }
  io.out(
    `Desa/village ${installed.code}: ${installed.secretFile}${installed.caFile ? `, ${installed.caFile}` : ''}`,
  );
  if (installed.previousId !== undefined) io.out(`gateway.id: ${installed.previousId} → ${installed.code}`);
  io.out(`mqtt block written to ${configFile} (before: ${installed.backup})`);
  // A rotated identity: the old one works until the box's birth names this one (or its grace ends).
  if (/\.\d+$/.test(username))
    io.out(
      `Identitas baru/new identity ${username}: once the daemon connects with it (doctor: broker ✓), ` +
        `the regency retires the old identity by itself (no \`regency confirm\` needed)`,
    );

  const sub = { ...args, config: configFile, positionals: [] };
  const checked = await checkConfigCommand(sub, io);
  if (checked !== 0 || args.root) {
    if (args.root && checked === 0) io.out(`staged root: run \`kampung-gw doctor\` on the box`);
    return checked;
  }
  io.out('Restart the daemon to connect with it: sudo systemctl restart kampung-gateway');
  return doctorCommand(sub, io);
}

/** The group's id from /etc/group, or undefined when the service group does not exist here. */
function groupId(name: string): number | undefined {
  let text = '';
  try {
    text = readFileSync('/etc/group', 'utf8');
  } catch {
    return undefined;
  }
  const gid = text
    .split('\n')
    .find((l) => l.startsWith(`${name}:`))
    ?.split(':')[2];
  return gid === undefined ? undefined : Number(gid);
}
