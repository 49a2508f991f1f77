import { createHash, timingSafeEqual } from 'node:crypto';
import { readSecretFile } from '../config/loader.js';

/** Who is calling: the device id for a valid bearer token, else undefined. */
export interface DeviceAuth {
  authenticate(authorizationHeader: string | undefined): string | undefined;
}

/**
 * TEMPORARY: a minimal bearer-token check from devices[].token_file, so /svc works before
 * the device module lands. Replace with the device module's authenticator at merge.
 * Tokens are read once at start() and kept only as sha256 digests.
 */
export class TokenFileAuth implements DeviceAuth {
  private readonly devices: ReadonlyArray<{ id: string; token_file?: string }>;
  private digests: Array<{ id: string; digest: Buffer }> = [];
  /** Headers already verified: a kiosk sends the same one on every request (hits stay cheap). */
  private readonly verified = new Map<string, string>();

  constructor(devices: ReadonlyArray<{ id: string; token_file?: string }>) {
    this.devices = devices;
  }

  start(): void {
    this.digests = this.devices.flatMap((d) =>
      d.token_file ? [{ id: d.id, digest: hash(readSecretFile(d.token_file)) }] : [],
    );
  }

  authenticate(header: string | undefined): string | undefined {
    if (header === undefined) return undefined;
    const known = this.verified.get(header);
    if (known) return known;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!m?.[1]) return undefined;
    const presented = hash(m[1]);
    let found: string | undefined;
    // Compare against every device so the time taken does not tell which one matched.
    for (const d of this.digests) if (timingSafeEqual(d.digest, presented) && !found) found = d.id;
    if (found) {
      if (this.verified.size >= 256) this.verified.clear();
      this.verified.set(header, found);
    }
    return found;
  }
}

function hash(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
