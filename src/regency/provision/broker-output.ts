import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GwError } from '../../core/errors.js';
import {
  renderEmqxAuthn,
  renderEmqxAuthz,
  renderEmqxRevoked,
  renderEmqxUsersCsv,
  renderEmqxUsersJson,
  renderMosquittoAcl,
  renderMosquittoPasswd,
} from './broker-files.js';
import { type ClientCa, writeCrl } from './client-ca.js';
import type { CredentialsRepo } from './credentials-repo.js';
import { PUBLIC_MODE, SECRET_MODE, writeFileAtomic } from './secure-write.js';

const run = promisify(execFile);
const CRL_REFRESH_MS = 30 * 86_400_000;

/** Writes the file when its content differs; true when it did. */
function writeIfChanged(path: string, content: string, mode: number): boolean {
  if (existsSync(path) && readFileSync(path, 'utf8') === content) return false;
  writeFileAtomic(path, content, mode);
  return true;
}

/**
 * Every broker file written again from the store, which is the only truth: whatever a kill
 * interrupted, the next write makes the files match it. True when the broker must reload
 * (the password file, the ACL or the CRL changed).
 */
export async function writeBrokerFiles(
  out: string,
  prefix: string,
  credentials: CredentialsRepo,
  configuredCa: ClientCa | undefined,
): Promise<boolean> {
  const all = await credentials.all();
  const inputs = { prefix, credentials: all };
  // The broker reads these as its own user: world-unreadable, the operator sets the owner.
  let changed = writeIfChanged(join(out, 'mosquitto', 'passwd'), renderMosquittoPasswd(all), SECRET_MODE);
  changed = writeIfChanged(join(out, 'mosquitto', 'acl'), renderMosquittoAcl(inputs), SECRET_MODE) || changed;
  const iterations = all[0]?.iterations ?? 101;
  writeIfChanged(join(out, 'emqx', 'users.csv'), renderEmqxUsersCsv(all), SECRET_MODE);
  writeIfChanged(join(out, 'emqx', 'users.json'), renderEmqxUsersJson(all), SECRET_MODE);
  writeIfChanged(join(out, 'emqx', 'authz-users.json'), renderEmqxAuthz(inputs), SECRET_MODE);
  writeIfChanged(join(out, 'emqx', 'revoked-users.txt'), renderEmqxRevoked(all), SECRET_MODE);
  writeIfChanged(join(out, 'emqx', 'authn.conf'), renderEmqxAuthn(iterations), SECRET_MODE);
  // With client certificates: the CA Mosquitto checks them against, and the CRL of revoked
  // and retired ones. The CRL is signed afresh each time (its dates move), so whether it
  // changed is judged by the serials it lists.
  const made = join(out, 'ca', 'client-ca.pem');
  const ca =
    configuredCa ??
    (existsSync(made) ? { certFile: made, keyFile: join(out, 'ca', 'client-ca.key') } : undefined);
  if (ca) {
    writeIfChanged(join(out, 'mosquitto', 'client-ca.pem'), readFileSync(ca.certFile, 'utf8'), PUBLIC_MODE);
    const revoked = await credentials.revokedCerts();
    const serials = `${revoked
      .map((r) => r.serial)
      .sort()
      .join('\n')}\n`;
    const listed = join(out, 'mosquitto', 'crl-serials.txt');
    const crl = join(out, 'mosquitto', 'crl.pem');
    const same = existsSync(listed) && readFileSync(listed, 'utf8') === serials;
    // Signed again a month on even when nothing changed, far inside its 10-year next update.
    const fresh = existsSync(crl) && Date.now() - statSync(crl).mtimeMs < CRL_REFRESH_MS;
    if (!same || !fresh) {
      await writeCrl(ca, revoked, crl);
      writeFileAtomic(listed, serials, PUBLIC_MODE);
      changed ||= !same;
    }
  }
  return changed;
}

/**
 * `provision.broker_reload`: the command that makes the broker read its files again (for
 * Mosquitto: `systemctl reload mosquitto`, which sends SIGHUP). An argument list, no shell.
 */
export async function reloadBroker(argv: readonly string[]): Promise<void> {
  const [cmd, ...args] = argv;
  if (!cmd) return;
  try {
    await run(cmd, args, { timeout: 30_000 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new GwError(
      'GW_ERR_BROKER_RELOAD',
      `broker reload (${cmd}) failed: ${(e.stderr || e.message).trim().slice(0, 300)}`,
    );
  }
}
