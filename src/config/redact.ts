/**
 * The one place that decides what of the config may leave the box: the MQTT `get-config`
 * command, the diagnostic bundle and every log line that carries a URL use these functions.
 *
 * Secrets live in files (`*_file` keys). The config itself only holds their paths, which are
 * kept (they help diagnose permissions); the files' contents are never read here. What can
 * still leak is a secret written inline: credentials in a URL (`mqtt://user:pw@host`) or a
 * value under a secret-looking key. check-config refuses both, and this strips them anyway,
 * for a config that reached memory some other way.
 */

export const REDACTED = '[redacted]';

/** Keys whose string values are secrets themselves (never the `*_file` path keys). */
const SECRET_KEY = /pass|secret|token|cred|private|cookie|authorization|(^|_)key$/i;
/** Query parameters that carry secrets in URLs (`?token=...`, `&api_key=...`). */
const SECRET_PARAM =
  /([?&](?:[a-z0-9_-]*(?:token|key|secret|pass(?:word)?|auth|sig(?:nature)?)))=[^&#\s"]*/gi;
/**
 * `scheme://userinfo@`: the userinfo runs up to the LAST `@` before the host's end, so a
 * password holding an unencoded `@` is removed whole.
 */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^/?#\s"]*@/gi;
const HAS_USERINFO = new RegExp(USERINFO.source, 'i');

/** A URL (or any text holding URLs) without userinfo or secret-looking query values. */
export function redactUrl(text: string): string {
  return text.replace(USERINFO, `$1${REDACTED}@`).replace(SECRET_PARAM, `$1=${REDACTED}`);
}

/** Whether a string holds a URL with credentials in it (userinfo). */
export function hasUrlCredentials(text: string): boolean {
  return HAS_USERINFO.test(text);
}

/** A deep copy of the config fit to leave the box (MQTT `get-config`, diagnostic bundle). */
export function redactConfig(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => redactConfig(v, key));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactConfig(v, k)]));
  }
  if (typeof value === 'string') {
    if (!key.endsWith('_file') && SECRET_KEY.test(key)) return REDACTED;
    return redactUrl(value);
  }
  return value;
}
