import { execFile } from 'node:child_process';
import { findOnPath } from '../../core/find-on-path.js';
import { type DoctorCheck, result, t } from './types.js';

/** ICMP probes need fping, and fping needs the right to send raw packets. */
export const fpingCheck: DoctorCheck = {
  name: 'fping',
  async run({ env, signal }) {
    const path = await findOnPath('fping', env.PATH ?? '');
    if (!path) {
      return result(
        'fping',
        'fail',
        t('fping tidak ditemukan: probe ICMP tidak bisa jalan', 'fping not found: ICMP probes cannot run'),
        t('Pasang: sudo apt install fping', 'Install it: sudo apt install fping'),
      );
    }
    const code = await new Promise<number | string>((resolve) => {
      execFile(path, ['-c', '1', '-t', '500', '-q', '127.0.0.1'], { timeout: 3000, signal, env }, (err) => {
        if (!err) resolve(0);
        else resolve(typeof err.code === 'number' ? err.code : String(err.code ?? 'error'));
      });
    });
    if (code === 0) {
      return result(
        'fping',
        'ok',
        t(`fping ada (${path}) dan bisa ping 127.0.0.1`, `fping present (${path}) and can ping 127.0.0.1`),
        undefined,
        { path },
      );
    }
    return result(
      'fping',
      'fail',
      t(
        `fping ada (${path}) tetapi gagal ping 127.0.0.1 (kode ${code})`,
        `fping present (${path}) but cannot ping 127.0.0.1 (code ${code})`,
      ),
      t(
        `Beri hak raw socket: sudo setcap cap_net_raw+ep ${path}`,
        `Grant raw-socket rights: sudo setcap cap_net_raw+ep ${path}`,
      ),
      { path, code },
    );
  },
};
