import { ClockSyncChecker } from '../../core/clock-sync.js';
import { type DoctorCheck, result, t } from './types.js';

export const clockCheck: DoctorCheck = {
  name: 'clock',
  async run({ config, signal }) {
    const s = await new ClockSyncChecker({ flagFile: config.system.timesync_flag }).check(signal);
    const now = new Date().toISOString();
    if (s.synced) {
      return result(
        'clock',
        'ok',
        t(`Jam tersinkron (${s.source}), sekarang ${now}`, `Clock synchronised (${s.source}), now ${now}`),
        undefined,
        { source: s.source },
      );
    }
    return result(
      'clock',
      'fail',
      t(`Jam belum tersinkron (sekarang menurut box: ${now})`, `Clock not synchronised (box time: ${now})`),
      t(
        'Aktifkan NTP: sudo timedatectl set-ntp true; pastikan uplink ke internet jalan (UDP 123)',
        'Enable NTP: sudo timedatectl set-ntp true; make sure the uplink reaches the internet (UDP 123)',
      ),
      { source: s.source },
    );
  },
};
