import { readSecretFile } from '../config/loader.js';
import { GwError } from '../core/errors.js';
import type { HeaderMap } from './cache-policy.js';

export interface UpstreamAuthConfig {
  bearer_file?: string;
  basic_file?: string;
  headers_file?: string;
}

/** An HTTP header name (RFC 9110 token). */
const NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;

/**
 * Reads the upstream's credentials into request headers (at start, never at construction).
 * They are added at send time only, so they are never stored with a queued write nor logged.
 */
export function loadUpstreamAuth(auth: UpstreamAuthConfig | undefined): HeaderMap {
  if (!auth) return {};
  if (auth.bearer_file) return { authorization: `Bearer ${readSecretFile(auth.bearer_file)}` };
  if (auth.basic_file)
    return {
      authorization: `Basic ${Buffer.from(readSecretFile(auth.basic_file), 'utf8').toString('base64')}`,
    };
  const out: HeaderMap = {};
  if (auth.headers_file) {
    for (const line of readSecretFile(auth.headers_file).split(/\r?\n/)) {
      if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
      const i = line.indexOf(':');
      const name = line.slice(0, i).trim();
      if (i < 1 || !NAME.test(name))
        throw new GwError('GW_ERR_SECRET_UNREADABLE', `${auth.headers_file}: expected "Name: value" lines`);
      out[name.toLowerCase()] = line.slice(i + 1).trim();
    }
  }
  return out;
}
