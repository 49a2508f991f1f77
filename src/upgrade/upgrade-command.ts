import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { type Operation, OperationError } from '../modules/operations.js';
import { remoteCommand } from '../report/command-names.js';
import { sha256File } from './bundle-verify.js';
import {
  BUNDLE_NAME_RE,
  REQUEST_FILE,
  readResult,
  stagedBundlePath,
  upgradesDir,
  writeRequest,
} from './remote-request.js';

const UpgradeArgs = Type.Object(
  {
    /** A bundle's file name in <data_dir>/upgrades/ (never a path). */
    bundle: Type.Optional(Type.String({ pattern: BUNDLE_NAME_RE.source, maxLength: 128 })),
    sha256: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$' })),
    /** Upgrade even while the outbox drains a backlog (the restart pauses the drain). */
    force: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/**
 * `upgrade { bundle, sha256 }` (MQTT, from the regency): asks for an upgrade to a bundle already
 * staged in <data_dir>/upgrades/. The daemon checks the name and the file's sha256 and writes
 * the request; kampung-gateway-upgrade.path starts the upgrade unit (root), which checks the
 * signature against the pinned key and does the upgrade with rollback. Without args it only
 * answers the last result. While the outbox drains a backlog it refuses unless `force`. Nothing here reaches a shell, and the daemon changes no release.
 */
export interface UpgradeCommandDeps {
  dataDir: string;
  now(): number;
  /** Envelopes of a backlog still to send (0: none draining); without it, never refused for it. */
  backlogLeft?(): number;
}

export function upgradeOperation(d: UpgradeCommandDeps): Operation {
  return {
    name: remoteCommand('upgrade'),
    mqtt: true,
    description:
      'upgrade to a bundle staged in <data_dir>/upgrades/ (args.bundle, args.sha256), with rollback',
    args: UpgradeArgs,
    run: async ({ args }) => {
      const last = readResult(d.dataDir) ?? null;
      const pending = existsSync(join(upgradesDir(d.dataDir), REQUEST_FILE));
      const { bundle, sha256, force } = args as { bundle?: string; sha256?: string; force?: boolean };
      if (bundle === undefined && sha256 === undefined) return { pending, last_result: last };
      if (bundle === undefined || sha256 === undefined)
        throw new OperationError('bad_args', 'args.bundle and args.sha256 go together');
      if (pending) throw new OperationError('not_available', 'an upgrade request is already pending');
      const left = d.backlogLeft?.() ?? 0;
      if (left > 0 && force !== true)
        throw new OperationError(
          'not_available',
          `the outbox is draining a backlog (${left} left); ask again later, or with force: true`,
        );
      const path = stagedBundlePath(d.dataDir, bundle);
      if (!path) throw new OperationError('bad_args', `no staged bundle ${bundle} in the upgrades folder`);
      const got = await sha256File(path);
      if (got !== sha256) throw new OperationError('bad_args', `the staged bundle's sha256 is ${got}`);
      const id = `upgrade-${d.now()}`;
      writeRequest(d.dataDir, { id, bundle, sha256, requestedAt: new Date(d.now()).toISOString() });
      return { accepted: true, request: id, bundle, last_result: last };
    },
  };
}
