import { SystemClock } from '../../core/clock.js';
import { createLogger } from '../../core/logger.js';
import type { Probe, ProbeDeps, ProbeResult } from '../../probes/types.js';
import { type CheckResult, type DoctorCheck, result, type Text, t } from './types.js';

/**
 * The probe registry belongs to the uplink module. It is loaded by a computed specifier so
 * this check builds without it and, once the registry is in the build, runs every probe
 * of the ladder once, with the daemon's own probe code.
 */
const REGISTRY = '../../probes/registry.js';
type Registry = { createProbe(spec: unknown, deps: ProbeDeps): Probe };

async function loadRegistry(): Promise<Registry | undefined> {
  try {
    const mod = (await import(REGISTRY)) as Partial<Registry>;
    return typeof mod.createProbe === 'function' ? (mod as Registry) : undefined;
  } catch {
    return undefined;
  }
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

export const uplinkCheck: DoctorCheck = {
  name: 'uplink',
  async run({ config }) {
    const probes = config.uplink.probes as Array<{ name: string; layer: string; timeout_ms?: number }>;
    if (probes.length === 0) {
      return result(
        'uplink',
        'skip',
        t('Tidak ada probe uplink di konfigurasi', 'No uplink probes configured'),
      );
    }
    const registry = await loadRegistry();
    if (!registry) {
      return result(
        'uplink',
        'skip',
        t(
          `${probes.length} probe uplink dikonfigurasi; uji langsung belum tersedia di versi ini`,
          `${probes.length} uplink probes configured; live test not available in this build`,
        ),
      );
    }
    const deps: ProbeDeps = { clock: new SystemClock(), log: createLogger({ level: 'fatal' }) };
    const out: CheckResult[] = [];
    // In ladder order, so the first ✗ names the failing layer.
    for (const spec of probes) {
      const label = `${spec.name} (${spec.layer})`;
      let r: ProbeResult;
      try {
        const probe = registry.createProbe(spec, deps);
        r = await probe.run(AbortSignal.timeout((spec.timeout_ms ?? 3000) + 1000));
      } catch (err) {
        out.push(
          result(
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
          ),
        );
        continue;
      }
      const ms = r.latency_ms === null ? '' : `, ${Math.round(r.latency_ms * 10) / 10} ms`;
      const facts = { layer: spec.layer, outcome: r.outcome, latency_ms: r.latency_ms };
      out.push(
        r.outcome === 'ok'
          ? result(
              `uplink.${spec.name}`,
              'ok',
              t(`Probe ${label}: ok${ms}`, `Probe ${label}: ok${ms}`),
              undefined,
              facts,
            )
          : result(
              `uplink.${spec.name}`,
              'fail',
              t(`Probe ${label}: ${r.outcome}`, `Probe ${label}: ${r.outcome}`),
              ADVICE[spec.layer],
              facts,
            ),
      );
    }
    return out;
  },
};
