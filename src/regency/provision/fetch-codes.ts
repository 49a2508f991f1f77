import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { wibTime } from '../../core/wib.js';
import type { RegencyConfig } from '../config-schema.js';
import type { OpenedDb } from '../store/open-db.js';
import { BundleCodes } from './bundle-codes.js';

export interface FetchCode {
  code: string;
  /** The one-time code (shown once; the store keeps its SHA-256). */
  fetch_code: string;
  expires: string;
  url: string;
}

export interface FetchCodes {
  codes: FetchCode[];
  /** SHA-256 of the certificate boxes pin (http.tls.ca_file, else cert_file); null without TLS. */
  fingerprint: string | null;
}

/** The SHA-256 fingerprint boxes pin with `provision --fingerprint`, as openssl prints it. */
export function pinFingerprint(config: RegencyConfig): string | null {
  const tls = config.http.tls;
  if (!tls) return null;
  return new X509Certificate(readFileSync(tls.ca_file ?? tls.cert_file)).fingerprint256;
}

/** Where boxes fetch from: provision.fetch_url, else https://<http.listen>. */
function fetchBase(config: RegencyConfig): string {
  if (config.provision.fetch_url) return config.provision.fetch_url.replace(/\/+$/, '');
  return `${config.http.tls ? 'https' : 'http'}://${config.http.listen}`;
}

/** One code per village just provisioned (a newer code withdraws an unused older one). */
export async function issueFetchCodes(
  config: RegencyConfig,
  opened: OpenedDb,
  villages: ReadonlyArray<{ code: string; bundle: string }>,
): Promise<FetchCodes> {
  const codes = new BundleCodes({ db: opened.db });
  const ttlMs = config.provision.code_ttl_s * 1000;
  const out: FetchCode[] = [];
  for (const v of villages) {
    const now = Date.now();
    const fetch_code = await codes.issue(v.code, resolve(v.bundle), now, ttlMs);
    out.push({
      code: v.code,
      fetch_code,
      expires: new Date(now + ttlMs).toISOString(),
      url: `${fetchBase(config)}/api/v1/villages/${v.code}/bundle`,
    });
  }
  return { codes: out, fingerprint: pinFingerprint(config) };
}

/** What the operator reads out or sends to the technician, per village. */
export function fetchCodeLines(f: FetchCodes): string[] {
  const lines: string[] = [];
  if (!f.fingerprint)
    lines.push('warning: http.tls is not set: boxes fetch only over https (set http.tls or a TLS proxy)');
  for (const c of f.codes) {
    const pin = f.fingerprint ? ` --fingerprint ${f.fingerprint}` : ' --ca <regency CA file>';
    lines.push(
      `${c.code}: one-time code ${c.fetch_code}, valid until ${wibTime(c.expires)}`,
      `  on the box: kampung-gw provision --from ${c.url} --code -${pin}   (then type the code)`,
    );
  }
  return lines;
}
