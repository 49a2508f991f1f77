import type { Config } from '../../config/schema.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';
export type Lang = 'id' | 'en';

/** Every line is written in Indonesian first; `--lang en` picks the English text. */
export interface Text {
  id: string;
  en: string;
}

export interface CheckResult {
  check: string;
  status: CheckStatus;
  /** What was found, e.g. "fping ditemukan di /usr/bin/fping". */
  title: Text;
  /** What to do next when not ok. */
  fix?: Text;
  /** Machine-readable facts for --json (no secrets). */
  facts?: Record<string, unknown>;
}

export interface DoctorContext {
  config: Config;
  configFile: string;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  /**
   * Shows a final line now, before the check returns (e.g. one line per probe). A check that
   * emits lines must also return them; if it is cut at its time limit, the lines it emitted
   * are kept and the rest is reported as not finished. The runner always provides it; a
   * check called on its own may be given none.
   */
  emit?(line: CheckResult): void;
}

/** One file per check in src/system/doctor/; the list lives in checks.ts. */
export interface DoctorCheck {
  readonly name: string;
  run(ctx: DoctorContext): Promise<CheckResult | CheckResult[]>;
}

export const t = (id: string, en: string): Text => ({ id, en });

export function result(
  check: string,
  status: CheckStatus,
  title: Text,
  fix?: Text,
  facts?: Record<string, unknown>,
): CheckResult {
  return { check, status, title, ...(fix ? { fix } : {}), ...(facts ? { facts } : {}) };
}
