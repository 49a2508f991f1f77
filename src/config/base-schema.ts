import { Type } from '@sinclair/typebox';
import { LOG_LEVELS } from '../core/logger.js';

export const GatewaySchema = Type.Object(
  {
    id: Type.String({ pattern: '^[0-9]{10}$', description: 'official 10-digit village code (kode desa)' }),
    name: Type.String({ minLength: 1, maxLength: 80 }),
  },
  { additionalProperties: false },
);

export const DataDirSchema = Type.String({ minLength: 1, default: '/var/lib/kampung-gateway' });

export const LogLevelSchema = Type.Union(
  LOG_LEVELS.map((l) => Type.Literal(l)),
  { default: 'info' },
);
