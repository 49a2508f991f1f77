import { stat } from 'node:fs/promises';
import { readText } from '../sensors.js';
import { type CheckResult, type DoctorCheck, result, t } from './types.js';

const SERVICE_USER = 'kampung-gw';
/** Public material: certificates may be world-readable. Every other `*_file` is a secret. */
const PUBLIC_KEYS = new Set(['ca_file', 'cert_file']);

/** Every `*_file` secret in the config, with its key path. */
function secretFiles(node: unknown, path = ''): Array<{ key: string; file: string }> {
  if (Array.isArray(node)) return node.flatMap((v, i) => secretFiles(v, `${path}[${i}]`));
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([k, v]) => {
    const key = path ? `${path}.${k}` : k;
    if (k.endsWith('_file') && typeof v === 'string') return PUBLIC_KEYS.has(k) ? [] : [{ key, file: v }];
    return secretFiles(v, key);
  });
}

/** The service user's primary group id, from /etc/passwd (no process spawned). */
async function serviceGid(): Promise<number | undefined> {
  const line = ((await readText('/etc/passwd')) ?? '')
    .split('\n')
    .find((l) => l.startsWith(`${SERVICE_USER}:`));
  const gid = line?.split(':')[3];
  return gid === undefined ? undefined : Number(gid);
}

/**
 * Token and secret files must be readable by their owner only — or by the service user's group
 * (root:kampung-gw 0640 is a fine layout). Readable by others: ✗. Readable by another group: !.
 */
export const secretFilesCheck: DoctorCheck = {
  name: 'secret_files',
  async run({ config }): Promise<CheckResult[]> {
    const files = secretFiles(config);
    if (files.length === 0)
      return [
        result(
          'secret_files',
          'skip',
          t('Tidak ada berkas rahasia di konfigurasi', 'No secret files configured'),
        ),
      ];
    const gid = await serviceGid();
    const out: CheckResult[] = [];
    for (const { key, file } of files) {
      let mode: number;
      let fileGid: number;
      try {
        const st = await stat(file);
        mode = st.mode & 0o777;
        fileGid = st.gid;
      } catch {
        continue; // missing or unreadable: the config check reports it
      }
      const octal = mode.toString(8).padStart(3, '0');
      const facts = { key, path: file, mode: octal };
      const fix = t(
        `sudo chmod 600 ${file} (atau 640 dengan grup ${SERVICE_USER})`,
        `sudo chmod 600 ${file} (or 640 with group ${SERVICE_USER})`,
      );
      if ((mode & 0o006) !== 0) {
        out.push(
          result(
            'secret_files',
            'fail',
            t(
              `${key}: ${file} bisa dibaca/ditulis semua pengguna (mode ${octal})`,
              `${key}: ${file} is readable/writable by everyone (mode ${octal})`,
            ),
            fix,
            facts,
          ),
        );
      } else if ((mode & 0o060) !== 0 && gid !== fileGid) {
        out.push(
          result(
            'secret_files',
            'warn',
            t(
              `${key}: ${file} bisa dibaca grup lain (gid ${fileGid}, mode ${octal})`,
              `${key}: ${file} is readable by another group (gid ${fileGid}, mode ${octal})`,
            ),
            fix,
            { ...facts, gid: fileGid },
          ),
        );
      }
    }
    if (out.length > 0) return out;
    return [
      result(
        'secret_files',
        'ok',
        t(
          `${files.length} berkas rahasia hanya bisa dibaca pemiliknya`,
          `${files.length} secret files readable by their owner only`,
        ),
        undefined,
        { files: files.length },
      ),
    ];
  },
};
