import { Type } from '@sinclair/typebox';

/**
 * Config keys that several probe types read. Each type lists the ones it uses in its
 * `fields`; sharing the schema object keeps a key's rules the same whichever type reads it
 * (spec-schema.ts refuses two different schemas under one key).
 */
export const HOST = Type.String({ minLength: 1, maxLength: 253 });
export const PORT = Type.Integer({ minimum: 1, maximum: 65535 });
