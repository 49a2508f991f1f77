import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import type { Logger } from '../core/logger.js';
import type { Scheduler, TaskHandle } from '../core/scheduler.js';
import type { Service } from '../core/service.js';
import { type LaterReplies, type Operation, OperationError } from '../modules/operations.js';
import { remoteCommand } from '../report/command-names.js';
import { fetchBundle } from './bundle-fetch.js';
import { sha256File } from './bundle-verify.js';
import {
  BUNDLE_NAME_RE,
  REQUEST_FILE,
  readResult,
  stagedBundlePath,
  upgradesDir,
  writeRequest,
  writeResult,
} from './remote-request.js';
import type { UpgradeAnnouncer } from './upgrade-announce.js';

const UpgradeArgs = Type.Object(
  {
    /** A bundle's file name in <data_dir>/upgrades/ (never a path). */
    bundle: Type.Optional(Type.String({ pattern: BUNDLE_NAME_RE.source, maxLength: 128 })),
    /** Or where to download it: http(s) on the regency's own server (the MQTT broker's host). */
    url: Type.Optional(Type.String({ pattern: '^https?://', maxLength: 512 })),
    sha256: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$' })),
    /** Upgrade even while the outbox drains a backlog (the restart pauses the drain). */
    force: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export interface UpgradeCommandDeps {
  dataDir: string;
  now(): number;
  log: Logger;
  /** The host a bundle URL must name (the regency's server); undefined: URLs are refused. */
  allowedHost?: string;
  /** Envelopes of a backlog still to send (0: none draining); without it, never refused for it. */
  backlogLeft?(): number;
  /** Retry pacing of a download (tests make it short). */
  backoffMs?(attempt: number): number;
  /** Announces the outcome in upgrades/result.json (event and last reply), once. */
  announcer?: UpgradeAnnouncer;
  /** Looks for a new outcome every few seconds (with `announcer`). */
  scheduler?: Scheduler;
}

/** A progress reply at every tenth of a download of known size, else every 8 MiB. */
const PROGRESS_STEP_BYTES = 8 * 1024 * 1024;
/** How often result.json is looked at (a stat): the outcome reaches the regency this soon. */
const OUTCOME_CHECK_MS = 5000;

interface Download {
  bundle: string;
  state: 'downloading' | 'done' | 'failed';
  bytes: number;
  total: number | null;
  attempts: number;
  error?: string;
}

type Args = { bundle?: string; url?: string; sha256?: string; force?: boolean };

/**
 * `upgrade { bundle | url, sha256 }` (MQTT, from the regency). The bundle is staged in
 * <data_dir>/upgrades/ — already there (`bundle`: a plain file name), or downloaded (`url`, on
 * the regency's own server: the broker's host), resuming over a bad link, kept only when its
 * sha256 matches. Then the daemon writes upgrades/request.json; kampung-gateway-upgrade.path
 * starts the upgrade unit (root), which checks the digest and the signature again and upgrades
 * with rollback. Without args it answers the download's progress and the last result. Refused
 * while the outbox drains a backlog unless `force`. Nothing here reaches a shell, and the daemon
 * changes no release.
 */
export function upgradeCommand(d: UpgradeCommandDeps): { operation: Operation; service: Service } {
  let download: Download | undefined;
  let outcomeTask: TaskHandle | undefined;
  const abort = new AbortController();

  const request = (bundle: string, sha256: string, later: LaterReplies | undefined): string => {
    const id = `upgrade-${d.now()}`;
    writeRequest(d.dataDir, {
      id,
      bundle,
      sha256,
      requestedAt: new Date(d.now()).toISOString(),
      ...(later ? { reply: later.address } : {}),
    });
    return id;
  };

  const startDownload = (url: URL, name: string, sha256: string, later: LaterReplies | undefined): void => {
    mkdirSync(upgradesDir(d.dataDir), { recursive: true, mode: 0o750 });
    const dl: Download = { bundle: name, state: 'downloading', bytes: 0, total: null, attempts: 0 };
    download = dl;
    // Progress replies: at every tenth (or 8 MiB) and at every new attempt over a bad link.
    let mark = { step: -1, attempts: 0 };
    const progress = (): void => {
      const step =
        dl.total && dl.total > 0
          ? Math.floor((dl.bytes * 10) / dl.total)
          : Math.floor(dl.bytes / PROGRESS_STEP_BYTES);
      if (step === mark.step && dl.attempts === mark.attempts) return;
      mark = { step, attempts: dl.attempts };
      later?.send({ ok: true, result: { ...dl, state: 'downloading' } });
    };
    fetchBundle({
      url,
      dest: join(upgradesDir(d.dataDir), name),
      sha256,
      signal: abort.signal,
      onProgress: (p) => {
        Object.assign(dl, p);
        progress();
      },
      ...(d.backoffMs ? { backoffMs: d.backoffMs } : {}),
    }).then(
      (p) => {
        Object.assign(dl, p, { state: 'done' });
        const id = request(name, sha256, later);
        later?.send({ ok: true, result: { state: 'requested', bundle: name, request: id, bytes: p.bytes } });
        d.log.info(
          { bundle: name, bytes: p.bytes, attempts: p.attempts, request: id },
          'upgrade: bundle downloaded',
        );
      },
      (err: Error) => {
        Object.assign(dl, { state: 'failed', error: err.message });
        if (abort.signal.aborted) return;
        writeResult(d.dataDir, {
          ok: false,
          outcome: 'download-failed',
          bundle: name,
          reason: err.message,
          at: new Date(d.now()).toISOString(),
          ...(later ? { reply: later.address } : {}),
        });
        d.log.warn({ bundle: name, reason: err.message }, 'upgrade: download failed');
        d.announcer?.announceLast();
      },
    );
  };

  const operation: Operation = {
    name: remoteCommand('upgrade'),
    mqtt: true,
    description:
      'upgrade to a bundle (args.bundle staged, or args.url downloaded; args.sha256), with rollback',
    args: UpgradeArgs,
    run: async ({ args, later }) => {
      const last = readResult(d.dataDir) ?? null;
      const pending = existsSync(join(upgradesDir(d.dataDir), REQUEST_FILE));
      const { bundle, url, sha256, force } = args as Args;
      if (bundle === undefined && url === undefined && sha256 === undefined)
        return { pending, download: download ? { ...download } : null, last_result: last };
      if ((bundle === undefined) === (url === undefined) || sha256 === undefined)
        throw new OperationError('bad_args', 'give args.sha256 with one of args.bundle or args.url');
      if (pending) throw new OperationError('not_available', 'an upgrade request is already pending');
      if (download?.state === 'downloading')
        throw new OperationError('not_available', 'a download is under way');
      const left = d.backlogLeft?.() ?? 0;
      if (left > 0 && force !== true)
        throw new OperationError(
          'not_available',
          `the outbox is draining a backlog (${left} left); ask again later, or with force: true`,
        );
      if (url !== undefined) {
        let u: URL;
        try {
          u = new URL(url);
        } catch {
          throw new OperationError('bad_args', 'args.url is not a URL');
        }
        if (!d.allowedHost || u.hostname !== d.allowedHost || u.username || u.password)
          throw new OperationError(
            'bad_args',
            `args.url must be on the regency's server (${d.allowedHost ?? 'none configured'})`,
          );
        const name = decodeURIComponent(u.pathname.split('/').at(-1) ?? '');
        if (!BUNDLE_NAME_RE.test(name))
          throw new OperationError('bad_args', 'args.url must end in a bundle file name');
        startDownload(u, name, sha256, later);
        return { accepted: true, downloading: name, last_result: last };
      }
      const name = bundle ?? '';
      const path = stagedBundlePath(d.dataDir, name);
      if (!path) throw new OperationError('bad_args', `no staged bundle ${name} in the upgrades folder`);
      const got = await sha256File(path);
      if (got !== sha256) throw new OperationError('bad_args', `the staged bundle's sha256 is ${got}`);
      return { accepted: true, request: request(name, sha256, later), bundle: name, last_result: last };
    },
  };
  return {
    operation,
    service: {
      name: 'upgrade-download',
      // The outcome of an upgrade that restarted this daemon (or rolled back to it) goes out once:
      // the root upgrader writes it after this daemon answered /healthz, so it is looked for.
      start: () => {
        const announcer = d.announcer;
        if (!announcer || !d.scheduler) return;
        announcer.check();
        outcomeTask = d.scheduler.every({
          name: 'upgrade-outcome',
          coarse: true,
          intervalMs: OUTCOME_CHECK_MS,
          initialDelayMs: OUTCOME_CHECK_MS,
          run: () => announcer.check(),
        });
      },
      stop: () => {
        outcomeTask?.cancel();
        abort.abort();
      },
    },
  };
}
