import { SystemClock } from '../../core/clock.js';
import { createLogger } from '../../core/logger.js';
import { oneRunMsOf } from '../../probes/spec-schema.js';
import type { Probe, ProbeDeps, ProbeResult } from '../../probes/types.js';
import { type CheckResult, type DoctorCheck, result, type Text, t } from './types.js';

/**
 * The probe registry belongs to the uplink module: loaded only when the check runs, so the
 * doctor's other checks start without it. The check runs every probe of the ladder once, with
 * the daemon's own probe code.
 */
type Registry = { createProbe(spec: unknown, deps: ProbeDeps): Probe };

async function loadRegistry(): Promise<Registry> {
  return import('../../probes/registry.js');
}

const ADVICE: Record<string, Text> = {
  lan: t(
    'Periksa kabel LAN dan router di balai desa (lampu, daya)',
    'Check the LAN cable and the hall router (lights, power)',
  ),
  isp: t(
    'Periksa ONT/modem; jika lampu LOS merah, hubungi ISP',
    'Check the ONT/modem; if LOS is red, call the ISP',
  ),
  dns: t(
    'Periksa DNS di router, atau ganti server DNS di konfigurasi',
    'Check DNS on the router, or the DNS server in the config',
  ),
  internet: t('Internet tidak terjangkau: hubungi ISP', 'The internet is unreachable: call the ISP'),
  regency: t(
    'Server kabupaten tidak menjawab: laporkan ke Diskominfo',
    'The regency server does not answer: report to the regency IT',
  ),
};

/** Doctor's own bound per probe, under the runner's 10 s per check whatever timeout_ms says. */
const PROBE_CAP_MS = 8000;
/** A probe that overruns its signal is not waited for beyond this. */
const OVERRUN_GRACE_MS = 250;

type UplinkSpec = { name: string; layer: string; type: string; timeout_ms?: number; interval_s?: number };

/** The probe's own deadline for one run, as the probe type defines it, within doctor's cap. */
function deadlineOf(spec: UplinkSpec): number {
  return Math.min(oneRunMsOf(spec) + 500, PROBE_CAP_MS);
}

/** Runs one probe once under its own deadline; whatever happens, one line comes back. */
async function probeLine(
  registry: Registry,
  spec: UplinkSpec,
  deps: ProbeDeps,
  check: AbortSignal,
): Promise<CheckResult> {
  const label = `${spec.name} (${spec.layer})`;
  const limit = deadlineOf(spec);
  const signal = AbortSignal.any([check, AbortSignal.timeout(limit)]);
  let probe: Probe | undefined;
  let r: ProbeResult;
  try {
    probe = registry.createProbe(spec, deps);
    // A probe that ignores its signal must not hold the others' lines: give up on it shortly after.
    const overrun = new Promise<ProbeResult>((resolve) => {
      signal.addEventListener(
        'abort',
        () => {
          setTimeout(
            () => resolve({ outcome: 'timeout', latency_ms: null, fields: {} }),
            OVERRUN_GRACE_MS,
          ).unref();
        },
        { once: true },
      );
    });
    r = await Promise.race([probe.run(signal), overrun]);
  } catch (err) {
    return result(
      `uplink.${spec.name}`,
      'fail',
      t(
        `Probe ${label} tidak bisa jalan: ${(err as Error).message}`,
        `Probe ${label} cannot run: ${(err as Error).message}`,
      ),
      t(
        'Jalankan doctor lagi setelah memperbaiki baris fping di atas',
        'Fix the fping line above, then run doctor again',
      ),
    );
  } finally {
    probe?.close?.();
  }
  const ms = r.latency_ms === null ? '' : `, ${Math.round(r.latency_ms * 10) / 10} ms`;
  const facts = { layer: spec.layer, outcome: r.outcome, latency_ms: r.latency_ms, deadline_ms: limit };
  if (r.outcome === 'ok')
    return result(
      `uplink.${spec.name}`,
      'ok',
      t(`Probe ${label}: ok${ms}`, `Probe ${label}: ok${ms}`),
      undefined,
      facts,
    );
  const why =
    r.outcome === 'timeout'
      ? t(`tidak ada jawaban dalam ${limit} ms (timeout)`, `no answer within ${limit} ms (timeout)`)
      : t(r.outcome, r.outcome);
  return result(
    `uplink.${spec.name}`,
    'fail',
    t(`Probe ${label}: ${why.id}`, `Probe ${label}: ${why.en}`),
    ADVICE[spec.layer],
    facts,
  );
}

export const uplinkCheck: DoctorCheck = {
  name: 'uplink',
  async run({ config, signal, emit }) {
    const probes = config.uplink.probes as UplinkSpec[];
    if (probes.length === 0) {
      return result(
        'uplink',
        'skip',
        t('Tidak ada probe uplink di konfigurasi', 'No uplink probes configured'),
      );
    }
    const registry = await loadRegistry();
    const deps: ProbeDeps = { clock: new SystemClock(), log: createLogger({ level: 'fatal' }) };
    // Side by side, each under its own deadline, each line shown as it finishes: one silent
    // target costs its own deadline, not the whole check. Returned in ladder order, so the
    // first ✗ of the summary names the failing layer.
    return Promise.all(
      probes.map(async (spec) => {
        const line = await probeLine(registry, spec, deps, signal);
        emit?.(line);
        return line;
      }),
    );
  },
};
