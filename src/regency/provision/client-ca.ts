import { execFile } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GwError } from '../../core/errors.js';
import { PUBLIC_MODE, SECRET_MODE, secureDir, writeFileAtomic } from './secure-write.js';

const run = promisify(execFile);
/** EC P-256: small, fast on a Pi, accepted by Mosquitto and Node. */
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
const CA_DAYS = '7300';
const CERT_DAYS = '1825';
/** A CRL past its next update makes Mosquitto refuse every certificate: renewed at each write. */
const CRL_DAYS = '3650';

export interface ClientCa {
  certFile: string;
  keyFile: string;
}

export interface IssuedCert {
  /** Uppercase hex, as openssl's index lists it. */
  serial: string;
  notAfterMs: number;
  cert: string;
  key: string;
}

export interface RevokedCert {
  serial: string;
  username: string;
  notAfterMs: number;
  revokedMs: number;
}

async function openssl(args: string[]): Promise<void> {
  try {
    // A fixed argument list, no shell.
    await run('openssl', args, { timeout: 30_000 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new GwError(
      'GW_ERR_INTERNAL',
      `openssl ${args[0]} failed: ${(e.stderr || e.message).trim().slice(0, 300)}`,
    );
  }
}

/** The regency's client CA: the configured one, else made once under `<out>/ca/`. */
export async function ensureClientCa(out: string, configured?: ClientCa): Promise<ClientCa> {
  if (configured) return configured;
  const dir = join(out, 'ca');
  const ca = { certFile: join(dir, 'client-ca.pem'), keyFile: join(dir, 'client-ca.key') };
  if (existsSync(ca.certFile) && existsSync(ca.keyFile)) return ca;
  secureDir(dir);
  await openssl([
    'req',
    '-x509',
    ...EC,
    '-keyout',
    ca.keyFile,
    '-out',
    ca.certFile,
    '-days',
    CA_DAYS,
    '-subj',
    '/CN=kampung regency client CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE,pathlen:0',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  writeFileAtomic(ca.keyFile, readFileSync(ca.keyFile, 'utf8'), SECRET_MODE);
  return ca;
}

/** A client certificate with CN = the broker username (Mosquitto `use_identity_as_username`). */
export async function issueClientCert(ca: ClientCa, username: string): Promise<IssuedCert> {
  const work = mkdtempSync(join(tmpdir(), 'kgw-cert-'));
  try {
    const f = (n: string) => join(work, n);
    writeFileSync(
      f('ext.cnf'),
      'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n',
    );
    await openssl(['req', ...EC, '-keyout', f('key.pem'), '-out', f('csr.pem'), '-subj', `/CN=${username}`]);
    // 16 random bytes, top bit clear: a positive serial nobody can predict.
    const serialBytes = randomBytes(16);
    serialBytes[0] = (serialBytes[0] as number) & 0x7f;
    const serial = serialBytes.toString('hex').toUpperCase();
    await openssl([
      'x509',
      '-req',
      '-in',
      f('csr.pem'),
      '-CA',
      ca.certFile,
      '-CAkey',
      ca.keyFile,
      '-set_serial',
      `0x${serial}`,
      '-days',
      CERT_DAYS,
      '-extfile',
      f('ext.cnf'),
      '-out',
      f('cert.pem'),
    ]);
    const cert = readFileSync(f('cert.pem'), 'utf8');
    return {
      serial,
      notAfterMs: Date.parse(new X509Certificate(cert).validTo),
      cert,
      key: readFileSync(f('key.pem'), 'utf8'),
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** `YYMMDDHHMMSSZ`, as openssl's index file writes times. */
function indexTime(ms: number): string {
  return `${new Date(ms).toISOString().replace(/[-:T]/g, '').slice(2, 14)}Z`;
}

/**
 * The CRL of every revoked client certificate, written again in full from the store (an
 * openssl `ca` database is built for the run and thrown away): the store stays the one
 * source of truth, as for the password file.
 */
export async function writeCrl(ca: ClientCa, revoked: readonly RevokedCert[], file: string): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'kgw-crl-'));
  try {
    const f = (n: string) => join(work, n);
    writeFileSync(
      f('index.txt'),
      revoked
        .map(
          (r) =>
            `R\t${indexTime(r.notAfterMs)}\t${indexTime(r.revokedMs)}\t${r.serial}\tunknown\t/CN=${r.username}\n`,
        )
        .join(''),
    );
    writeFileSync(
      f('ca.cnf'),
      [
        '[ca]',
        'default_ca = regency',
        '[regency]',
        `database = ${f('index.txt')}`,
        `certificate = ${ca.certFile}`,
        `private_key = ${ca.keyFile}`,
        `crlnumber = ${f('crlnumber')}`,
        'default_md = sha256',
        `default_crl_days = ${CRL_DAYS}`,
        '',
      ].join('\n'),
    );
    writeFileSync(f('crlnumber'), `${Date.now().toString(16).toUpperCase().padStart(16, '0')}\n`);
    await openssl(['ca', '-gencrl', '-config', f('ca.cnf'), '-out', f('crl.pem')]);
    writeFileAtomic(file, readFileSync(f('crl.pem'), 'utf8'), PUBLIC_MODE);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
