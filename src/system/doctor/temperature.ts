import { detectThrottlingSource, readThermalZones, readThrottling } from '../sensors.js';
import { type CheckResult, type DoctorCheck, result, t } from './types.js';

/** CPU temperature and (on a Pi) the firmware's undervoltage/throttling flags. */
export const temperatureCheck: DoctorCheck = {
  name: 'temperature',
  async run({ config, signal }) {
    const out: CheckResult[] = [];
    const temp = await readThermalZones();
    const limit = config.system.temperature_warn_c;
    if (temp === null) {
      out.push(result('temperature', 'skip', t('Tidak ada sensor suhu CPU', 'No CPU temperature sensor')));
    } else if (temp >= limit) {
      out.push(
        result(
          'temperature',
          'fail',
          t(`Suhu CPU ${temp} °C (batas ${limit} °C)`, `CPU temperature ${temp} °C (limit ${limit} °C)`),
          t(
            'Pindahkan box ke tempat berventilasi, jauh dari sinar matahari; pasang heatsink/kipas',
            'Move the box somewhere ventilated and out of the sun; fit a heatsink or fan',
          ),
          { temperature_c: temp },
        ),
      );
    } else {
      out.push(
        result('temperature', 'ok', t(`Suhu CPU ${temp} °C`, `CPU temperature ${temp} °C`), undefined, {
          temperature_c: temp,
        }),
      );
    }
    const thr = await readThrottling(await detectThrottlingSource(), signal);
    if (!thr) return out;
    const facts = { raw: `0x${thr.raw.toString(16)}`, flags: thr.words };
    const psu = t(
      'Ganti adaptor daya dengan yang resmi 5,1 V 3 A dan kabel pendek yang tebal',
      'Use an official 5.1 V 3 A power supply and a short, thick cable',
    );
    if (thr.undervoltage_now || thr.active) {
      out.push(
        result(
          'power',
          'fail',
          t(
            `Firmware membatasi CPU sekarang: ${thr.words.join(', ')}`,
            `Firmware is limiting the CPU now: ${thr.words.join(', ')}`,
          ),
          thr.undervoltage_now ? psu : t('Periksa pendinginan box', 'Check the box cooling'),
          facts,
        ),
      );
    } else if (thr.raw !== 0) {
      out.push(
        result(
          'power',
          'warn',
          t(
            `Sejak boot pernah terjadi: ${thr.words.join(', ')}`,
            `Happened since boot: ${thr.words.join(', ')}`,
          ),
          thr.undervoltage_since_boot ? psu : t('Periksa pendinginan box', 'Check the box cooling'),
          facts,
        ),
      );
    } else {
      out.push(
        result(
          'power',
          'ok',
          t('Daya dan pendinginan normal (throttled=0x0)', 'Power and cooling fine (throttled=0x0)'),
          undefined,
          facts,
        ),
      );
    }
    return out;
  },
};
