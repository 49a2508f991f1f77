import type { CheckResult, DoctorCheck, DoctorContext, Lang } from './types.js';
import { result, t } from './types.js';

const CHECK_TIMEOUT_MS = 10_000;

/** Runs the checks one after another, each time-boxed; a check that throws is a failed line. */
export async function runChecks(
  checks: readonly DoctorCheck[],
  ctx: Omit<DoctorContext, 'signal'>,
): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const check of checks) {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<CheckResult>((resolve) => {
      timer = setTimeout(() => {
        controller.abort();
        resolve(
          result(
            check.name,
            'fail',
            t(
              `Pemeriksaan ${check.name} tidak selesai dalam 10 detik`,
              `Check ${check.name} did not finish within 10 s`,
            ),
          ),
        );
      }, CHECK_TIMEOUT_MS);
    });
    try {
      const r = await Promise.race([check.run({ ...ctx, signal: controller.signal }), timeout]);
      out.push(...(Array.isArray(r) ? r : [r]));
    } catch (err) {
      out.push(
        result(
          check.name,
          'fail',
          t(
            `Pemeriksaan ${check.name} gagal: ${(err as Error).message}`,
            `Check ${check.name} failed: ${(err as Error).message}`,
          ),
        ),
      );
    } finally {
      clearTimeout(timer);
    }
  }
  return out;
}

const MARK = { ok: '✓', fail: '✗', warn: '!', skip: '–' } as const;

export function renderText(results: CheckResult[], lang: Lang, header: string): string {
  const lines = [header, ''];
  for (const r of results) {
    lines.push(`${MARK[r.status]} ${r.title[lang]}`);
    if (r.fix && r.status !== 'ok') lines.push(`    → ${r.fix[lang]}`);
  }
  const failed = results.filter((r) => r.status === 'fail').length;
  const warned = results.filter((r) => r.status === 'warn').length;
  lines.push('');
  if (lang === 'en') {
    lines.push(
      failed === 0 ? `Healthy${warned ? ` (${warned} warning(s))` : ''}.` : `${failed} problem(s) found.`,
    );
  } else {
    lines.push(failed === 0 ? `Sehat${warned ? ` (${warned} peringatan)` : ''}.` : `Ada ${failed} masalah.`);
  }
  return lines.join('\n');
}

export function renderJson(results: CheckResult[], lang: Lang): string {
  return JSON.stringify(
    {
      ok: results.every((r) => r.status !== 'fail'),
      checks: results.map((r) => ({
        check: r.check,
        status: r.status,
        message: r.title[lang],
        ...(r.fix && r.status !== 'ok' ? { fix: r.fix[lang] } : {}),
        ...(r.facts ? { facts: r.facts } : {}),
      })),
    },
    null,
    2,
  );
}
