import { readFileSync, statSync } from 'node:fs';
import { validateHeaderName, validateHeaderValue } from 'node:http';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { HeaderMap } from './cache-policy.js';
import { UpstreamError } from './upstream-client.js';

/** One of the three (config-schema.ts allows exactly one key). */
export interface AuthConfig {
  bearer_file?: string | undefined;
  basic_file?: string | undefined;
  headers_file?: string | undefined;
}

/** How often a credentials file is stat'ed for a change, at most (each upstream request asks). */
const CHECK_EVERY_MS = 1000;

/**
 * An upstream's own credentials, read from a file and never from the config, so they stay out
 * of config dumps, support bundles and logs (only the file's path is ever logged). Re-read when
 * the file changes (checked at most once a second, on use: no watcher, no timer), so a token
 * rotated by a script applies to the next request without a restart. A file that turns
 * unreadable or malformed keeps the last good value (a half-written rotation must not cut the
 * service); with none, the upstream is treated as unreachable, never called without them.
 */
export class UpstreamCredentials {
  private readonly auth: AuthConfig | undefined;
  private readonly clock: Clock;
  private readonly log: Logger;
  private checkedMono = Number.NEGATIVE_INFINITY;
  private stamp = '';
  private value: HeaderMap | undefined;
  private warned = '';

  /** `basic_file` as an OAuth2 client's `id:secret`: each part form-encoded first (RFC 6749 §2.3.1). */
  private readonly formEncode: boolean;

  constructor(deps: { auth: AuthConfig | undefined; clock: Clock; log: Logger; formEncode?: boolean }) {
    this.auth = deps.auth;
    this.formEncode = deps.formEncode ?? false;
    this.clock = deps.clock;
    this.log = deps.log;
  }

  /** The fields to add to every request to this upstream ({} when it needs none). */
  headers(): HeaderMap {
    const file = this.file();
    if (!file) return {};
    const now = this.clock.monoMs();
    if (now - this.checkedMono >= CHECK_EVERY_MS || !this.value) {
      this.checkedMono = now;
      this.reload(file);
    }
    if (!this.value) throw new UpstreamError('unreachable', false, 'upstream credentials unreadable');
    return this.value;
  }

  /** Reads the file now (at start, so a bad file is reported before a kiosk asks); false when unusable. */
  check(): boolean {
    const file = this.file();
    if (!file) return true;
    this.checkedMono = this.clock.monoMs();
    this.stamp = '';
    return this.reload(file);
  }

  private file(): string | undefined {
    const a = this.auth;
    return a?.bearer_file ?? a?.basic_file ?? a?.headers_file;
  }

  private reload(file: string): boolean {
    let stamp: string;
    try {
      const st = statSync(file);
      stamp = `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
    } catch (err) {
      this.warn(file, (err as NodeJS.ErrnoException).code ?? 'unreadable');
      return false;
    }
    if (stamp === this.stamp && this.value) return true;
    try {
      this.value = this.parse(readFileSync(file, 'utf8'));
      this.stamp = stamp;
      this.warned = '';
      return true;
    } catch (err) {
      this.warn(
        file,
        err instanceof CredentialsError ? err.message : ((err as NodeJS.ErrnoException).code ?? 'unreadable'),
      );
      return false;
    }
  }

  private parse(text: string): HeaderMap {
    const a = this.auth ?? {};
    const lines = text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    if (a.bearer_file) {
      const token = lines[0] ?? '';
      if (lines.length !== 1 || !/^[\x21-\x7e]{1,4096}$/.test(token))
        throw new CredentialsError('not one token line');
      return { authorization: `Bearer ${token}` };
    }
    if (a.basic_file) {
      const pair = lines[0] ?? '';
      if (lines.length !== 1 || !/^[^:]+:.*$/.test(pair))
        throw new CredentialsError('not one user:password line');
      const colon = pair.indexOf(':');
      const basic = this.formEncode ? `${form(pair.slice(0, colon))}:${form(pair.slice(colon + 1))}` : pair;
      return { authorization: `Basic ${Buffer.from(basic, 'utf8').toString('base64')}` };
    }
    const out: HeaderMap = {};
    lines.forEach((line, i) => {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      try {
        if (colon <= 0) throw new Error('no colon');
        validateHeaderName(name);
        validateHeaderValue(name, value);
      } catch {
        // The line number only: the line itself may hold the secret.
        throw new CredentialsError(`line ${i + 1} is not "Name: value"`);
      }
      out[name] = value;
    });
    if (Object.keys(out).length === 0) throw new CredentialsError('no header lines');
    return out;
  }

  private warn(file: string, why: string): void {
    if (this.warned === why) return;
    this.warned = why;
    this.log.warn(
      { file, why, kept_previous: this.value !== undefined },
      'upstream credentials file not usable',
    );
  }
}

class CredentialsError extends Error {}

/** application/x-www-form-urlencoded, as RFC 6749 §2.3.1 wants for a client id and secret. */
function form(s: string): string {
  return new URLSearchParams({ v: s }).toString().slice(2);
}
