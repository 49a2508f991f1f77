import { readFileSync } from 'node:fs';
import type { ConfigIssue, ConfigRefinement } from '../config/types.js';

/** A device token must resist guessing on its own, whatever the throttle does: 128 bits. */
export const MIN_TOKEN_BITS = 128;
/** Fewer distinct characters than this and the token is not random, whatever its length. */
const MIN_DISTINCT = 8;

/**
 * Estimated entropy of a token in bits: length × log2(size of the alphabet it draws from),
 * where the alphabet is the union of the character classes the token actually uses — hex
 * (16) when it is only hex digits, else digits 10, a-z 26, A-Z 26, `-_` 2, `+/` 2, any other
 * printable 28 (trailing `=` padding is not counted). So 22 base64url or 32 hex characters
 * from a random generator reach 128 bits. A token with fewer than 8 distinct characters
 * ("aaaa…", "12121212…") counts as 0: it was typed, not generated.
 */
export function tokenBits(token: string): number {
  const t = token.replace(/=+$/, '');
  if (t.length === 0 || new Set(t).size < MIN_DISTINCT) return 0;
  let alphabet: number;
  if (/^[0-9a-f]+$/.test(t) || /^[0-9A-F]+$/.test(t)) alphabet = 16;
  else {
    alphabet = 0;
    if (/[0-9]/.test(t)) alphabet += 10;
    if (/[a-z]/.test(t)) alphabet += 26;
    if (/[A-Z]/.test(t)) alphabet += 26;
    if (/[-_]/.test(t)) alphabet += 2;
    if (/[+/]/.test(t)) alphabet += 2;
    if (/[^0-9a-zA-Z\-_+/]/.test(t)) alphabet += 28;
  }
  return Math.floor(t.length * Math.log2(alphabet));
}

/**
 * `devices[].token_file` must hold a token of at least MIN_TOKEN_BITS (an unreadable file is
 * the secret-files refinement's issue). Enforced by check-config; a running daemon only warns,
 * so an upgrade never silences a village's kiosks.
 */
export const tokenStrengthRefinement: ConfigRefinement = (config, ctx) => {
  const devices = (config as { devices?: Array<{ token_file?: string }> }).devices ?? [];
  const issues: ConfigIssue[] = [];
  devices.forEach((d, i) => {
    if (!d.token_file) return;
    let token: string;
    try {
      token = readFileSync(ctx.resolvePath(d.token_file), 'utf8').trim();
    } catch {
      return;
    }
    const bits = tokenBits(token);
    if (bits < MIN_TOKEN_BITS)
      issues.push({
        path: `devices[${i}].token_file`,
        message:
          `token too weak: about ${bits} bits, at least ${MIN_TOKEN_BITS} bits needed ` +
          '(22+ random base64url or 32+ hex characters, e.g. `openssl rand -hex 16`)',
      });
  });
  return issues;
};
