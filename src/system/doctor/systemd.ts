import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { findOnPath } from '../../core/find-on-path.js';
import { type DoctorCheck, result, t } from './types.js';

const UNIT = 'kampung-gateway';

/** Only where systemd is PID 1 (it creates /run/systemd/system); skipped elsewhere. */
export const systemdCheck: DoctorCheck = {
  name: 'systemd',
  async run({ env, signal }) {
    const systemctl = await findOnPath('systemctl', env.PATH ?? '');
    if (!systemctl || !existsSync('/run/systemd/system')) {
      return result('systemd', 'skip', t('Tidak berjalan di bawah systemd', 'Not running under systemd'));
    }
    const state = await new Promise<string>((resolve) => {
      execFile(systemctl, ['is-active', UNIT], { timeout: 3000, signal }, (_err, stdout) =>
        resolve(String(stdout).trim() || 'unknown'),
      );
    });
    if (state === 'active') {
      return result('systemd', 'ok', t(`Layanan ${UNIT} aktif`, `Service ${UNIT} is active`), undefined, {
        state,
      });
    }
    return result(
      'systemd',
      'fail',
      t(`Layanan ${UNIT} tidak aktif (${state})`, `Service ${UNIT} is not active (${state})`),
      t(
        `sudo systemctl enable --now ${UNIT}; lihat log: journalctl -u ${UNIT} -n 50`,
        `sudo systemctl enable --now ${UNIT}; see the log: journalctl -u ${UNIT} -n 50`,
      ),
      { state },
    );
  },
};
