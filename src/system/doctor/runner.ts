import type { CheckResult, DoctorCheck, DoctorContext, Lang } from './types.js';
import { result, t } from './types.js';

const CHECK_TIMEOUT_MS = 10_000;

export interface RunOptions {
  /** Called with every line as soon as it is final, in the order lines finish. */
  onLine?(line: CheckResult): void;
  /** Time limit of each check (default 10 s). */
  timeoutMs?: number;
}

/**
 * Runs the checks side by side, each time-boxed on its own: a slow check never hides the
 * others' lines. Lines reach `onLine` as they finish; the returned list is in checklist order.
 */
export async function runChecks(
  checks: readonly DoctorCheck[],
  ctx: Omit<DoctorContext, 'signal' | 'emit'>,
  options: RunOptions = {},
): Promise<CheckResult[]> {
  const perCheck = await Promise.all(checks.map((check) => runOne(check, ctx, options)));
  return perCheck.flat();
}

/** A check that throws is a failed line; one cut at its limit keeps the lines it emitted. */
async function runOne(
  check: DoctorCheck,
  ctx: Omit<DoctorContext, 'signal' | 'emit'>,
  options: RunOptions,
): Promise<CheckResult[]> {
  const limitMs = options.timeoutMs ?? CHECK_TIMEOUT_MS;
  const shown: CheckResult[] = [];
  let closed = false;
  const show = (line: CheckResult) => {
    if (closed || shown.includes(line)) return;
    shown.push(line);
    options.onLine?.(line);
  };
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), limitMs);
  });
  try {
    const r = await Promise.race([check.run({ ...ctx, signal: controller.signal, emit: show }), timeout]);
    if (r !== 'timeout') {
      const lines = Array.isArray(r) ? r : [r];
      for (const line of lines) show(line);
      closed = true;
      // The check's own order (e.g. the ladder, bottom first), not the order lines finished in.
      return lines;
    }
    controller.abort();
    const s = Math.round(limitMs / 100) / 10;
    show(
      result(
        check.name,
        'fail',
        t(
          `Pemeriksaan ${check.name} tidak selesai dalam ${s} detik`,
          `Check ${check.name} did not finish within ${s} s`,
        ),
      ),
    );
  } catch (err) {
    show(
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
  closed = true;
  return shown;
}

const MARK = { ok: '✓', fail: '✗', warn: '!', skip: '–' } as const;

/** One line (and its fix when not ok), as printed when it finishes. */
export function renderLine(r: CheckResult, lang: Lang): string {
  const line = `${MARK[r.status]} ${r.title[lang]}`;
  return r.fix && r.status !== 'ok' ? `${line}\n    → ${r.fix[lang]}` : line;
}

/**
 * The closing line and, under it, every failed line again in checklist order (lines were
 * printed as they finished, so the first ✗ of the ladder is read here).
 */
export function renderSummary(results: CheckResult[], lang: Lang): string {
  const failed = results.filter((r) => r.status === 'fail');
  const warned = results.filter((r) => r.status === 'warn').length;
  const head =
    lang === 'en'
      ? failed.length === 0
        ? `Healthy${warned ? ` (${warned} warning(s))` : ''}.`
        : `${failed.length} problem(s) found.`
      : failed.length === 0
        ? `Sehat${warned ? ` (${warned} peringatan)` : ''}.`
        : `Ada ${failed.length} masalah.`;
  return [head, ...failed.map((r) => `  ${MARK.fail} ${r.title[lang]}`)].join('\n');
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
