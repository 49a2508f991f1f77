import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { diskFromStatfs, round1 } from '../readings.js';
import { type DoctorCheck, result, t } from './types.js';

/** Free space on the data dir's filesystem (or its nearest existing parent). */
export const diskCheck: DoctorCheck = {
  name: 'disk',
  async run({ config }) {
    let path = config.data_dir;
    let disk = await statfs(path).then(diskFromStatfs, () => null);
    while (!disk && dirname(path) !== path) {
      path = dirname(path);
      disk = await statfs(path).then(diskFromStatfs, () => null);
    }
    if (!disk) return result('disk', 'skip', t('Ruang disk tidak terbaca', 'Disk space unreadable'));
    const freeMb = round1(disk.free_bytes / 1048576);
    const facts = { free_mb: freeMb, used_pct: disk.used_pct };
    const cleanup = t(
      'Kosongkan ruang: sudo journalctl --vacuum-size=50M; hapus berkas besar yang tidak perlu; atau ganti kartu SD yang lebih besar',
      'Free space: sudo journalctl --vacuum-size=50M; remove large unneeded files; or use a bigger SD card',
    );
    if (freeMb < config.system.disk_floor_mb) {
      return result(
        'disk',
        'fail',
        t(
          `Disk hampir penuh: sisa ${freeMb} MB (batas ${config.system.disk_floor_mb} MB)`,
          `Disk nearly full: ${freeMb} MB free (floor ${config.system.disk_floor_mb} MB)`,
        ),
        cleanup,
        facts,
      );
    }
    if (disk.used_pct >= config.system.disk_warn_pct) {
      return result(
        'disk',
        'warn',
        t(
          `Disk ${disk.used_pct}% terpakai (sisa ${freeMb} MB)`,
          `Disk ${disk.used_pct}% used (${freeMb} MB free)`,
        ),
        cleanup,
        facts,
      );
    }
    return result(
      'disk',
      'ok',
      t(
        `Disk ${disk.used_pct}% terpakai, sisa ${freeMb} MB`,
        `Disk ${disk.used_pct}% used, ${freeMb} MB free`,
      ),
      undefined,
      facts,
    );
  },
};
