import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { LOG_LEVELS } from '../core/logger.js';

export const GatewaySchema = Type.Object(
  {
    id: Type.String({ pattern: '^[0-9]{10}$', description: 'official 10-digit village code (kode desa)' }),
    name: Type.String({ minLength: 1, maxLength: 80 }),
  },
  { additionalProperties: false },
);

export const BOX_DATA_DIR = '/var/lib/kampung-gateway';
/** The unit's RuntimeDirectory= (tmpfs): where the live status snapshot lives on a box. */
export const BOX_RUN_DIR = '/run/kampung-gateway';

export const DataDirSchema = Type.String({ minLength: 1, default: BOX_DATA_DIR });

/**
 * Runtime directory for what is only a live snapshot (the status sections): unset, it is
 * /run/kampung-gateway with the box's data_dir, else <data_dir>/run (checkouts and tests).
 */
export const RunDirSchema = Type.Optional(Type.String({ minLength: 1 }));

/** The runtime directory a config means (the daemon writes there, `kampung-gw status` reads). */
export function runDirOf(c: { data_dir: string; run_dir?: string | undefined }): string {
  if (c.run_dir) return c.run_dir;
  return join(c.data_dir, '.') === BOX_DATA_DIR ? BOX_RUN_DIR : join(c.data_dir, 'run');
}

export const LogLevelSchema = Type.Union(
  LOG_LEVELS.map((l) => Type.Literal(l)),
  { default: 'info' },
);
