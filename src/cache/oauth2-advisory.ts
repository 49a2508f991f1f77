import type { ConfigIssue, ConfigRefinement } from '../config/types.js';

/** Hosts where plain HTTP never leaves the box. */
const LOOPBACK = /^(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])$/i;

/**
 * An OAuth2 client secret is long-lived and opens the upstream to whoever reads it: sent over
 * plain HTTP it crosses the village LAN, the ISP and every hop in clear. check-config refuses a
 * `token_url` that is not https (loopback excepted, for a local test server); `run` warns.
 */
export const oauth2TransportAdvisory: ConfigRefinement = (config) => {
  const issues: ConfigIssue[] = [];
  const ups = (config as { cache?: { upstreams?: Array<{ auth?: { oauth2?: { token_url?: unknown } } }> } })
    .cache?.upstreams;
  (ups ?? []).forEach((up, i) => {
    const url = up.auth?.oauth2?.token_url;
    if (typeof url !== 'string') return;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      issues.push({ path: `cache.upstreams[${i}].auth.oauth2.token_url`, message: 'not a URL' });
      return;
    }
    if (parsed.protocol === 'https:' || LOOPBACK.test(parsed.hostname)) return;
    issues.push({
      path: `cache.upstreams[${i}].auth.oauth2.token_url`,
      message: 'the client secret would be sent unencrypted: use an https:// token URL',
    });
  });
  return issues;
};
