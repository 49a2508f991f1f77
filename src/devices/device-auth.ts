import { createHash, timingSafeEqual } from 'node:crypto';
import { readSecretFile } from '../config/loader.js';
import type { Logger } from '../core/logger.js';
import type { FailureThrottle } from '../store/failure-throttle.js';
import type { DeviceConfig } from './config-schema.js';

/** An unknown device id is a `bad_token` too: a caller without a token learns no device ids. */
export type AuthResult = 'ok' | 'bad_token' | 'throttled';

/** What status and /metrics show of token guessing (no tokens, no addresses). */
export interface AuthCounters {
  /** Requests refused for a missing or wrong device token (401). */
  device_auth_failures: number;
  /** Requests refused because their address failed too often (429). */
  device_auth_throttled: number;
  /** Source addresses blocked right now. */
  blocked_sources: number;
}

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
  private readonly throttle: FailureThrottle | undefined;
  private readonly log: Logger | undefined;
  private failures = 0;
  private throttled = 0;

  /** Without a throttle (unit tests, tools) failures are only counted. */
  constructor(devices: readonly DeviceConfig[], deps: { throttle?: FailureThrottle; log?: Logger } = {}) {
    this.devices = devices;
    this.throttle = deps.throttle;
    this.log = deps.log;
  }

  counters(): AuthCounters {
    return {
      device_auth_failures: this.failures,
      device_auth_throttled: this.throttled,
      blocked_sources: this.throttle?.blockedCount() ?? 0,
    };
  }

  /**
   * Whether `source` (an IP address) is blocked after too many wrong tokens: such a request is
   * answered 429 before its token is even looked at, so a blocked guesser learns nothing.
   */
  blocked(source: string): boolean {
    if (!this.throttle?.blocked([key(source)])) return false;
    this.throttled++;
    return true;
  }

  /**
   * Reads every token file; a device without a readable, non-empty one can never push (401).
   * One unreadable file must not stop the gateway: it is reported and that device refused.
   * Returns the ids of devices whose token file could not be read.
   *
   * `keepPrevious` (a reload on SIGHUP): a file that is now unreadable or empty — a rotation
   * caught half-written — keeps the device's last good token instead of locking the kiosk out.
   */
  load(keepPrevious = false): string[] {
    const before = new Map(this.digests);
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
      const kept = keepPrevious && d.token_file && token.length === 0 ? before.get(d.id) : undefined;
      if (kept && !unreadable.includes(d.id)) unreadable.push(d.id);
      this.digests.set(d.id, kept ?? (token.length > 0 ? digest(token) : null));
    }
    return unreadable;
  }

  check(deviceId: string, authorization: string | undefined, source: string): AuthResult {
    if (this.blocked(source)) return 'throttled';
    const expected = this.digests.get(deviceId);
    const presented = bearer(authorization);
    // Hash even when there is nothing to compare, so timing does not tell the cases apart.
    const got = digest(presented ?? '');
    if (expected && presented !== undefined && timingSafeEqual(got, expected)) return 'ok';
    this.failed(source, presented !== undefined);
    return 'bad_token';
  }

  /**
   * The device a bearer token belongs to, for routes with no device id in the path (/svc).
   * Every digest is compared, so the time taken does not tell which device matched.
   */
  authenticate(authorization: string | undefined, source: string): string | undefined {
    if (authorization === undefined) return this.failed(source, false);
    const known = this.recent.get(authorization);
    if (known) return known;
    const presented = bearer(authorization);
    if (presented === undefined) return this.failed(source, false);
    const got = digest(presented);
    let found: string | undefined;
    for (const [id, expected] of this.digests) {
      if (expected && timingSafeEqual(got, expected) && found === undefined) found = id;
    }
    if (found !== undefined) {
      if (this.recent.size >= 256) this.recent.clear();
      this.recent.set(authorization, found);
    } else this.failed(source, true);
    return found;
  }

  /**
   * Counts a refused request. A wrong token (one presented) counts towards the address's
   * throttle and is logged with the address only; a request with no token at all is a kiosk
   * or browser that did not try, counted but neither throttled nor logged.
   */
  private failed(source: string, presented: boolean): undefined {
    this.failures++;
    if (!presented) return undefined;
    this.throttle?.fail([key(source)]);
    const now = this.throttle?.blocked([key(source)]) ?? false;
    this.log?.warn({ source, blocked: now }, 'device token refused');
    return undefined;
  }
}

const key = (source: string) => `device-addr:${source}`;

function bearer(header: string | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const m = /^Bearer[ \t]+(\S{1,512})[ \t]*$/i.exec(header);
  return m?.[1];
}
