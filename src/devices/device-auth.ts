import { createHash, timingSafeEqual } from 'node:crypto';
import { readSecretFile } from '../config/loader.js';
import type { DeviceConfig } from './config-schema.js';

export type AuthResult = 'ok' | 'unknown_device' | 'bad_token';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * Device bearer tokens. A device is identified by its token, never by address (IPs change
 * after every power cut). Tokens are read once at start; only their SHA-256 digests are
 * kept, and digests (always 32 bytes) are compared in constant time.
 */
export class DeviceAuth {
  private readonly devices: readonly DeviceConfig[];
  private readonly digests = new Map<string, Buffer | null>();
  /** Headers already matched, so a kiosk's repeated reads stay cheap (bounded; cleared on load). */
  private readonly recent = new Map<string, string>();

  constructor(devices: readonly DeviceConfig[]) {
    this.devices = devices;
  }

  /**
   * Reads every token file; a device without a readable, non-empty one can never push (401).
   * One unreadable file must not stop the gateway: it is reported and that device refused.
   * Returns the ids of devices whose token file could not be read.
   */
  load(): string[] {
    this.digests.clear();
    this.recent.clear();
    const unreadable: string[] = [];
    for (const d of this.devices) {
      let token = '';
      try {
        token = d.token_file ? readSecretFile(d.token_file) : '';
      } catch {
        unreadable.push(d.id);
      }
      this.digests.set(d.id, token.length > 0 ? digest(token) : null);
    }
    return unreadable;
  }

  check(deviceId: string, authorization: string | undefined): AuthResult {
    if (!this.digests.has(deviceId)) return 'unknown_device';
    const expected = this.digests.get(deviceId);
    const presented = bearer(authorization);
    // Hash even when there is nothing to compare, so timing does not tell the cases apart.
    const got = digest(presented ?? '');
    if (!expected || presented === undefined) return 'bad_token';
    return timingSafeEqual(got, expected) ? 'ok' : 'bad_token';
  }

  /**
   * The device a bearer token belongs to, for routes with no device id in the path (/svc).
   * Every digest is compared, so the time taken does not tell which device matched.
   */
  authenticate(authorization: string | undefined): string | undefined {
    if (authorization === undefined) return undefined;
    const known = this.recent.get(authorization);
    if (known) return known;
    const presented = bearer(authorization);
    if (presented === undefined) return undefined;
    const got = digest(presented);
    let found: string | undefined;
    for (const [id, expected] of this.digests) {
      if (expected && timingSafeEqual(got, expected) && found === undefined) found = id;
    }
    if (found !== undefined) {
      if (this.recent.size >= 256) this.recent.clear();
      this.recent.set(authorization, found);
    }
    return found;
  }
}

function bearer(header: string | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const m = /^Bearer[ \t]+(\S{1,512})[ \t]*$/i.exec(header);
  return m?.[1];
}
