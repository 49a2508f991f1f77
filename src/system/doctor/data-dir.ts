import { constants } from 'node:fs';
import { access, rm, stat, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { readText } from '../sensors.js';
import { type DoctorCheck, result, t } from './types.js';

const SERVICE_USER = 'kampung-gw';

/** Looks the service user up in /etc/passwd (no process spawned). */
async function serviceUid(): Promise<number | undefined> {
  const passwd = (await readText('/etc/passwd')) ?? '';
  const line = passwd.split('\n').find((l) => l.startsWith(`${SERVICE_USER}:`));
  const uid = line?.split(':')[2];
  return uid === undefined ? undefined : Number(uid);
}

/** The data dir exists, is writable (really: a file is created and removed), with sane owner and mode. */
export const dataDirCheck: DoctorCheck = {
  name: 'data_dir',
  async run({ config }) {
    const dir = config.data_dir;
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(dir);
    } catch {
      return result(
        'data_dir',
        'fail',
        t(`Folder data ${dir} tidak ada`, `Data folder ${dir} does not exist`),
        t(
          `Buat folder: sudo install -d -o ${SERVICE_USER} -m 750 ${dir}`,
          `Create it: sudo install -d -o ${SERVICE_USER} -m 750 ${dir}`,
        ),
      );
    }
    if (!st.isDirectory()) {
      return result(
        'data_dir',
        'fail',
        t(`${dir} bukan folder`, `${dir} is not a folder`),
        t('Pindahkan berkas itu, lalu buat foldernya', 'Move that file away, then create the folder'),
      );
    }
    const mode = (st.mode & 0o777).toString(8).padStart(3, '0');
    const facts = { path: dir, owner_uid: st.uid, mode };
    const probe = join(dir, `.doctor-${process.pid}`);
    try {
      await access(dir, constants.W_OK);
      await writeFile(probe, 'ok');
      await rm(probe, { force: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      const readOnly = code === 'EROFS';
      return result(
        'data_dir',
        'fail',
        t(
          `Folder data ${dir} tidak bisa ditulis (${code}${readOnly ? ': disk hanya-baca' : ''})`,
          `Data folder ${dir} is not writable (${code}${readOnly ? ': read-only filesystem' : ''})`,
        ),
        readOnly
          ? t(
              'Kartu SD kemungkinan rusak dan di-mount hanya-baca: reboot, lalu jalankan fsck; ganti kartu bila berulang',
              'The SD card was probably remounted read-only after errors: reboot and run fsck; replace the card if it recurs',
            )
          : t(
              `Perbaiki hak akses: sudo chown -R ${SERVICE_USER} ${dir} && sudo chmod 750 ${dir}`,
              `Fix permissions: sudo chown -R ${SERVICE_USER} ${dir} && sudo chmod 750 ${dir}`,
            ),
        { ...facts, error: code },
      );
    }
    const uid = await serviceUid();
    if (uid !== undefined && st.uid !== uid) {
      return result(
        'data_dir',
        'warn',
        t(
          `Folder data ${dir} bisa ditulis, tapi pemiliknya uid ${st.uid}, bukan ${SERVICE_USER}`,
          `Data folder ${dir} is writable but owned by uid ${st.uid}, not ${SERVICE_USER}`,
        ),
        t(`sudo chown -R ${SERVICE_USER} ${dir}`, `sudo chown -R ${SERVICE_USER} ${dir}`),
        facts,
      );
    }
    if ((st.mode & 0o002) !== 0) {
      return result(
        'data_dir',
        'warn',
        t(
          `Folder data ${dir} bisa ditulis semua pengguna (mode ${mode})`,
          `Data folder ${dir} is world-writable (mode ${mode})`,
        ),
        t(`sudo chmod 750 ${dir}`, `sudo chmod 750 ${dir}`),
        facts,
      );
    }
    return result(
      'data_dir',
      'ok',
      t(
        `Folder data ${dir} bisa ditulis (mode ${mode}, pemilik ${st.uid === userInfo().uid ? 'pengguna ini' : `uid ${st.uid}`})`,
        `Data folder ${dir} is writable (mode ${mode}, owner ${st.uid === userInfo().uid ? 'this user' : `uid ${st.uid}`})`,
      ),
      undefined,
      facts,
    );
  },
};
