import { loadConfig, resolveConfigPath } from '../config/loader.js';
import type { Config } from '../config/schema.js';
import type { ConfigIssue } from '../config/types.js';
import { GwError, isGwError } from '../core/errors.js';
import { CHECKS } from '../system/doctor/checks.js';
import { renderJson, renderLine, renderSummary, runChecks } from '../system/doctor/runner.js';
import { type CheckResult, type Lang, result, t } from '../system/doctor/types.js';
import type { CommonArgs } from './args.js';
import type { CliIo } from './io.js';

/** `kampung-gw doctor`: the on-box checklist; exit 0 when healthy, 1 when any line fails. */
export async function doctorCommand(args: CommonArgs, io: CliIo): Promise<number> {
  const lang: Lang =
    args.lang === undefined || args.lang === 'id' ? 'id' : args.lang === 'en' ? 'en' : invalidLang(args.lang);
  const file = resolveConfigPath(args.config, io.env);
  let config: Config | undefined;
  let configLine: CheckResult;
  try {
    config = loadConfig(file).config;
    configLine = result('config', 'ok', t(`Konfigurasi valid (${file})`, `Config valid (${file})`));
  } catch (err) {
    if (!isGwError(err)) throw err;
    const issues = ((err.details?.issues ?? []) as ConfigIssue[]).map((i) => `${i.path}: ${i.message}`);
    const why = issues.length > 0 ? issues.slice(0, 5).join('; ') : err.message;
    configLine = result(
      'config',
      'fail',
      t(`Konfigurasi ${file} tidak valid: ${why}`, `Config ${file} is invalid: ${why}`),
      t(
        `Perbaiki lalu cek: kampung-gw check-config --config ${file}`,
        `Fix it, then check: kampung-gw check-config --config ${file}`,
      ),
      { code: err.code, issues },
    );
  }
  const header = `kampung-gw doctor — ${config ? `${config.gateway.name} (${config.gateway.id})` : file}`;
  // Text is printed line by line as checks finish (they run side by side); JSON is one
  // document at the end.
  const live = !args.json;
  if (live) io.out(`${header}\n\n${renderLine(configLine, lang)}`);
  const results = [configLine];
  if (config) {
    const onLine = live ? (line: CheckResult) => io.out(renderLine(line, lang)) : undefined;
    results.push(...(await runChecks(CHECKS, { config, configFile: file, env: io.env }, { onLine })));
  }
  io.out(live ? `\n${renderSummary(results, lang)}` : renderJson(results, lang));
  return results.some((r) => r.status === 'fail') ? 1 : 0;
}

function invalidLang(lang: string): never {
  throw new GwError('GW_ERR_USAGE', `--lang must be "id" or "en", not "${lang}"`);
}
