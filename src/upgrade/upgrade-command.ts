import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import type { Logger } from '../core/logger.js';
import type { Service } from '../core/service.js';
import { type Operation, OperationError } from '../modules/operations.js';
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
}

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
  const abort = new AbortController();

  const request = (bundle: string, sha256: string): string => {
    const id = `upgrade-${d.now()}`;
    writeRequest(d.dataDir, { id, bundle, sha256, requestedAt: new Date(d.now()).toISOString() });
    return id;
  };

  const startDownload = (url: URL, name: string, sha256: string): void => {
    mkdirSync(upgradesDir(d.dataDir), { recursive: true, mode: 0o750 });
    const dl: Download = { bundle: name, state: 'downloading', bytes: 0, total: null, attempts: 0 };
    download = dl;
    fetchBundle({
      url,
      dest: join(upgradesDir(d.dataDir), name),
      sha256,
      signal: abort.signal,
      onProgress: (p) => Object.assign(dl, p),
      ...(d.backoffMs ? { backoffMs: d.backoffMs } : {}),
    }).then(
      (p) => {
        Object.assign(dl, p, { state: 'done' });
        const id = request(name, sha256);
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
        });
        d.log.warn({ bundle: name, reason: err.message }, 'upgrade: download failed');
      },
    );
  };

  const operation: Operation = {
    name: remoteCommand('upgrade'),
    mqtt: true,
    description:
      'upgrade to a bundle (args.bundle staged, or args.url downloaded; args.sha256), with rollback',
    args: UpgradeArgs,
    run: async ({ args }) => {
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
        startDownload(u, name, sha256);
        return { accepted: true, downloading: name, last_result: last };
      }
      const name = bundle ?? '';
      const path = stagedBundlePath(d.dataDir, name);
      if (!path) throw new OperationError('bad_args', `no staged bundle ${name} in the upgrades folder`);
      const got = await sha256File(path);
      if (got !== sha256) throw new OperationError('bad_args', `the staged bundle's sha256 is ${got}`);
      return { accepted: true, request: request(name, sha256), bundle: name, last_result: last };
    },
  };
  return {
    operation,
    service: { name: 'upgrade-download', start: () => undefined, stop: () => abort.abort() },
  };
}
