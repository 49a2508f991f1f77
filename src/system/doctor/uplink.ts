import { type DoctorCheck, result, t } from './types.js';

/**
 * Runs each configured uplink probe once. The probe registry (src/probes/registry.ts) is
 * built by the uplink module; until this build has it, the check says so instead of
 * guessing.
 */
export const uplinkCheck: DoctorCheck = {
  name: 'uplink',
  async run({ config }) {
    const probes = config.uplink.probes;
    if (probes.length === 0) {
      return result(
        'uplink',
        'skip',
        t('Tidak ada probe uplink di konfigurasi', 'No uplink probes configured'),
      );
    }
    return result(
      'uplink',
      'skip',
      t(
        `${probes.length} probe uplink dikonfigurasi; uji langsung belum tersedia di versi ini (lihat kampung-gw status)`,
        `${probes.length} uplink probes configured; live test not available in this build (see kampung-gw status)`,
      ),
    );
  },
};
