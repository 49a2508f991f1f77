import { GwError } from '../core/errors.js';
import { wibTime } from '../core/wib.js';
import type { RegencyConfig } from '../regency/config-schema.js';
import { CredentialsRepo } from '../regency/provision/credentials-repo.js';
import { fetchCodeLines, issueFetchCodes } from '../regency/provision/fetch-codes.js';
import { Provisioner, provisionOutDir, type Reload } from '../regency/provision/provisioner.js';
import type { OpenedDb } from '../regency/store/open-db.js';
import { VillageRegistry } from '../regency/villages.js';
import type { CommonArgs } from './args.js';
import type { CliIo } from './io.js';

function provisioner(config: RegencyConfig, opened: OpenedDb): Provisioner {
  return new Provisioner({
    config,
    registry: VillageRegistry.load(config.regency.villages_file),
    credentials: new CredentialsRepo({ db: opened.db }),
    wallMs: () => Date.now(),
  });
}

const RELOAD =
  'Broker: copy mosquitto/passwd, mosquitto/acl (and crl.pem) to its password_file, acl_file ' +
  '(and crlfile), then reload it (systemctl reload mosquitto, or kill -HUP). EMQX: see docs/scale.md.';

/** What to tell the operator about the broker after its files were written. */
function reloadLine(reload: Reload): string {
  if (reload === 'reloaded') return 'broker: files changed, reloaded (provision.broker_reload)';
  if (reload === 'unchanged') return 'broker: files unchanged, nothing to reload';
  return RELOAD;
}

/** `kampung-gw regency provision CODE... | --all [--out DIR]`. */
export async function provisionCommand(
  config: RegencyConfig,
  opened: OpenedDb,
  args: CommonArgs,
  io: CliIo,
): Promise<number> {
  if (args.all === args.positionals.length > 0)
    throw new GwError(
      'GW_ERR_USAGE',
      'usage: kampung-gw regency provision CODE... | --all [--out DIR] [--cert] [--fetch-code] [--config F]',
    );
  const codes = args.all
    ? VillageRegistry.load(config.regency.villages_file)
        .all()
        .map((v) => v.code)
    : args.positionals;
  try {
    const r = await provisioner(config, opened).provision(codes, provisionOutDir(config, args.out), {
      cert: args.cert === true,
    });
    const fetch = args.fetchCode ? await issueFetchCodes(config, opened, r.villages) : undefined;
    if (args.json) {
      io.out(JSON.stringify({ ...r, ...(fetch ? { fetch } : {}) }, null, 2));
      return 0;
    }
    for (const v of r.villages)
      io.out(
        `${v.code}: ${v.action === 'created' ? 'new' : 'rotated'} (${v.username}) → ${v.bundle}` +
          (v.grace_until
            ? `\n  the old identity stays valid until the box connects with the new one (or regency confirm ${v.code}) or ${wibTime(v.grace_until)}`
            : ''),
      );
    if (fetch) for (const line of fetchCodeLines(fetch)) io.out(line);
    io.out(
      r.collector === 'kept'
        ? 'collector: identity unchanged (its secret is where mqtt.password_file points)'
        : `collector: ${r.collector === 'created' ? 'new secret' : 'current secret adopted'} → ${r.out}/collector/`,
    );
    if (!r.tls) io.out('warning: gateways will connect without TLS (set provision.gateway_url to mqtts://…)');
    io.out(reloadLine(r.reload));
    return 0;
  } catch (err) {
    if (err instanceof GwError && err.code === 'GW_ERR_VALIDATION') {
      io.err(err.message);
      return 1;
    }
    throw err;
  }
}

/** `kampung-gw regency revoke CODE [--out DIR]`. */
export async function revokeCommand(
  config: RegencyConfig,
  opened: OpenedDb,
  args: CommonArgs,
  io: CliIo,
): Promise<number> {
  const [code, ...extra] = args.positionals;
  if (!code || extra.length > 0)
    throw new GwError('GW_ERR_USAGE', 'usage: kampung-gw regency revoke CODE [--out DIR] [--config F]');
  const out = provisionOutDir(config, args.out);
  let reload: Reload;
  try {
    reload = await provisioner(config, opened).revoke(code, out);
  } catch (err) {
    if (err instanceof GwError && err.code === 'GW_ERR_NOT_FOUND') {
      io.err(err.message);
      return 1;
    }
    throw err;
  }
  io.out(`${code}: revoked; broker files written again in ${out}`);
  io.out(reloadLine(reload));
  return 0;
}

/**
 * `kampung-gw regency confirm CODE... [--out DIR]`: the box connects with its new identity
 * (seen in doctor or the broker's log): the old one is retired now rather than at the end of
 * provision.rotation_grace_s.
 */
export async function confirmCommand(
  config: RegencyConfig,
  opened: OpenedDb,
  args: CommonArgs,
  io: CliIo,
): Promise<number> {
  if (args.positionals.length === 0)
    throw new GwError('GW_ERR_USAGE', 'usage: kampung-gw regency confirm CODE... [--out DIR] [--config F]');
  const out = provisionOutDir(config, args.out);
  const p = provisioner(config, opened);
  let failed = 0;
  let reload: Reload = 'unchanged';
  for (const code of args.positionals) {
    try {
      const r = await p.confirm(code, out);
      io.out(`${code}: ${r.username} confirmed; ${r.retired.join(', ')} refused from the next reload`);
      if (r.reload !== 'unchanged') reload = r.reload;
    } catch (err) {
      if (!(err instanceof GwError && err.code === 'GW_ERR_NOTHING_PENDING')) throw err;
      io.err(err.message);
      failed++;
    }
  }
  io.out(reloadLine(reload));
  return failed > 0 ? 1 : 0;
}
