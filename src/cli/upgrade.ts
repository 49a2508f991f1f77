import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { GwError, isGwError } from '../core/errors.js';
import type { ReplyAddress } from '../modules/operations.js';
import { DEFAULT_HEALTH_TIMEOUT_S, MAX_HEALTH_TIMEOUT_S } from '../upgrade/config-schema.js';
import { stagedBundlePath, takeRequest, writeResult } from '../upgrade/remote-request.js';
import { ProcessRestarter, type Restarter, SystemdRestarter } from '../upgrade/restarter.js';
import { type UpgradeResult, Upgrader } from '../upgrade/upgrader.js';
import { parseListen } from '../web/config-schema.js';
import type { CliIo } from './io.js';

export const UPGRADE_USAGE = `kampung-gw upgrade BUNDLE.tar.gz [options]   (as root)
kampung-gw upgrade --resume [options]

Upgrades the installed release with automatic rollback: checks the bundle (sha256, SHA256SUMS,
ed25519 signature by the pinned key), snapshots the database and the config, unpacks beside the
running release, switches /opt/kampung-gateway/current, restarts the service and waits for
/healthz from the new version; if it does not come, switches back, restores the snapshot when
the new version had migrated the database, and starts the old version again.
--resume finishes an upgrade that a kill or a power cut interrupted (forward or back), then a
request the regency's \`upgrade\` command left in <data_dir>/upgrades/.
  --sha256 HEX           the bundle file must have this sha256
  --pubkey F             pin this key instead of current/keys/release.pub
  --config F             the daemon's config (default /etc/kampung-gateway/config.yaml)
  --health-timeout S     seconds to wait for health (default: upgrade.health_timeout_s, else 120)
  --keep N               releases kept, current and previous included (default 2)
  --root R               a staged root: /opt and /etc are under R (paths inside the config are not)
  --restarter systemd|process   default systemd; process (staged roots) runs current's node itself
  --wait S               with --resume: wait this long for another upgrader to finish (default 0)
  --json                 print the result as JSON
Exit codes: 0 upgraded (or nothing to do), 1 refused or rolled back, 2 usage error.
`;

const OPTIONS = {
  resume: { type: 'boolean', default: false },
  sha256: { type: 'string' },
  pubkey: { type: 'string' },
  config: { type: 'string', short: 'c' },
  'health-timeout': { type: 'string' },
  keep: { type: 'string' },
  root: { type: 'string' },
  restarter: { type: 'string' },
  wait: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

function num(v: string | undefined, name: string, min: number, max: number, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new GwError('GW_ERR_USAGE', `--${name} must be ${min}..${max}`);
  return n;
}

/**
 * data_dir, the health URL and upgrade.health_timeout_s from the daemon's config, read
 * leniently (no schema: any version's config; a timeout out of range is the default).
 */
function fromConfig(path: string): {
  dataDir: string;
  healthUrl: string;
  healthTimeoutS: number;
  connectDelayS: number;
} {
  let doc: {
    data_dir?: unknown;
    http?: { listen?: unknown };
    upgrade?: { health_timeout_s?: unknown };
    mqtt?: { connect_delay_max_s?: unknown };
  } = {};
  if (existsSync(path)) doc = (parseYaml(readFileSync(path, 'utf8')) ?? {}) as typeof doc;
  const dataDir = typeof doc.data_dir === 'string' ? doc.data_dir : '/var/lib/kampung-gateway';
  const listen = typeof doc.http?.listen === 'string' ? doc.http.listen : '0.0.0.0:8080';
  const { host, port } = parseListen(listen);
  const h = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '::1' : host;
  const t = doc.upgrade?.health_timeout_s;
  const healthTimeoutS =
    typeof t === 'number' && Number.isInteger(t) && t >= 10 && t <= MAX_HEALTH_TIMEOUT_S
      ? t
      : DEFAULT_HEALTH_TIMEOUT_S;
  const d = doc.mqtt?.connect_delay_max_s;
  const connectDelayS = typeof d === 'number' && d >= 0 && d <= 600 ? d : 30;
  return {
    connectDelayS,
    dataDir,
    healthUrl: `http://${h.includes(':') ? `[${h}]` : h}:${port}/healthz`,
    healthTimeoutS,
  };
}

/** The crash tests' hook: KGW_UPGRADE_CRASH_AT=before:flipped kills this process there (kill -9). */
function crashHook(env: NodeJS.ProcessEnv): ((point: string) => void) | undefined {
  const at = env.KGW_UPGRADE_CRASH_AT;
  if (!at) return undefined;
  return (point) => {
    if (point === at) process.kill(process.pid, 'SIGKILL');
  };
}

export async function upgradeCommand(argv: string[], io: CliIo): Promise<number> {
  let parsed: ReturnType<
    typeof parseArgs<{ args: string[]; options: typeof OPTIONS; allowPositionals: true }>
  >;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new GwError('GW_ERR_USAGE', (err as Error).message);
  }
  const { values: o, positionals } = parsed;
  if (o.help) {
    io.out(UPGRADE_USAGE);
    return 0;
  }
  if (o.resume ? positionals.length !== 0 : positionals.length !== 1)
    throw new GwError(
      'GW_ERR_USAGE',
      o.resume ? '--resume takes no bundle' : 'upgrade needs one BUNDLE.tar.gz',
    );
  if (o.sha256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(o.sha256))
    throw new GwError('GW_ERR_USAGE', '--sha256 must be 64 hex digits');
  const root = resolve(o.root ?? '/');
  const under = (p: string) => join(root, p);
  const appDir = under('/opt/kampung-gateway');
  const configPath = o.config
    ? resolve(o.config)
    : io.env.KAMPUNG_GW_CONFIG && !o.root
      ? resolve(io.env.KAMPUNG_GW_CONFIG)
      : under('/etc/kampung-gateway/config.yaml');
  const { dataDir, healthUrl, healthTimeoutS, connectDelayS } = fromConfig(configPath);
  const kind = o.restarter ?? 'systemd';
  let restarter: Restarter;
  if (kind === 'systemd') restarter = new SystemdRestarter();
  else if (kind === 'process')
    restarter = new ProcessRestarter({
      appDir,
      configPath,
      pidFile: under('/run/kampung-gateway.pid'),
      logFile: under('/var/log/kampung-gateway.log'),
    });
  else throw new GwError('GW_ERR_USAGE', '--restarter must be systemd or process');
  const hook = crashHook(io.env);
  const upgrader = new Upgrader({
    appDir,
    configPath,
    dataDir,
    restarter,
    healthUrl,
    healthTimeoutMs:
      num(o['health-timeout'], 'health-timeout', 1, MAX_HEALTH_TIMEOUT_S, healthTimeoutS) * 1000,
    // The first connect waits up to connect_delay_max_s; a failed try then backs off (~60 s).
    mqttGraceMs: (connectDelayS + 60) * 1000,
    keep: num(o.keep, 'keep', 2, 20, 2),
    ...(o.pubkey ? { pubkey: resolve(o.pubkey) } : {}),
    say: (m) => io.err(`upgrade: ${m}`),
    ...(hook ? { hook } : {}),
  });
  const waitMs = num(o.wait, 'wait', 0, 3600, 0) * 1000;
  let result: UpgradeResult;
  let requestId: string | undefined;
  // Carried into result.json: the daemon that runs afterwards answers the regency there.
  let reply: { reply: ReplyAddress } | Record<string, never> = {};
  try {
    if (!o.resume) {
      const bundle = positionals[0] ?? '';
      result = await upgrader.upgrade(isAbsolute(bundle) ? bundle : resolve(bundle), o.sha256?.toLowerCase());
    } else {
      result = await upgrader.resume(waitMs);
      if (result.outcome === 'unchanged') {
        const req = takeRequest(dataDir);
        if (req && 'invalid' in req) {
          writeResult(dataDir, {
            ok: false,
            outcome: 'refused',
            reason: req.invalid,
            at: new Date().toISOString(),
          });
          io.err(`upgrade: request refused: ${req.invalid}`);
          return 1;
        }
        if (req) {
          requestId = req.id;
          if (req.reply) reply = { reply: req.reply };
          const bundle = stagedBundlePath(dataDir, req.bundle);
          if (!bundle) throw new GwError('GW_ERR_BUNDLE_REFUSED', `staged bundle ${req.bundle} not found`);
          io.err(`upgrade: request ${req.id} for ${req.bundle}`);
          result = await upgrader.upgrade(bundle, req.sha256);
        }
      }
    }
  } catch (err) {
    if (o.resume && isGwError(err) && err.code !== 'GW_ERR_UPGRADE_BUSY')
      writeResult(dataDir, {
        id: requestId ?? null,
        ok: false,
        outcome: 'refused',
        reason: err.message,
        at: new Date().toISOString(),
        ...reply,
      });
    throw err;
  }
  if (o.resume)
    writeResult(dataDir, {
      id: requestId ?? null,
      ok: result.outcome !== 'rolled-back',
      ...result,
      ...reply,
    });
  if (o.json) io.out(JSON.stringify(result));
  else io.out(describe(result));
  return result.outcome === 'upgraded' || result.outcome === 'unchanged' ? 0 : 1;
}

function describe(r: UpgradeResult): string {
  switch (r.outcome) {
    case 'upgraded':
      return `upgraded to ${r.version} (${r.to}); previous: ${r.from}`;
    case 'unchanged':
      return `nothing to do${r.reason ? `: ${r.reason}` : ''}`;
    case 'aborted':
      return `upgrade to ${r.version} abandoned before the switch: ${r.reason}; still on ${r.from}`;
    case 'rolled-back':
      return `ROLLED BACK to ${r.from}: ${r.reason}${r.restored ? '; database restored from the snapshot' : ''}${
        r.oldHealthy === false ? '; WARNING: the old version is not healthy either' : ''
      }`;
  }
}
