import { X509Certificate } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls, { type DetailedPeerCertificate } from 'node:tls';
import { GwError } from '../../core/errors.js';

/** What a bundle may hold (as `regency provision` writes it). */
const FILES = new Set(['mqtt.yaml', 'mqtt.secret', 'ca.pem', 'client.pem', 'client.key']);
const MAX_BYTES = 1024 * 1024;
const TIMEOUT_MS = 15_000;

export interface FetchOptions {
  /** https://…/api/v1/villages/{code}/bundle */
  url: string;
  /** The one-time code: sent as `Authorization: Bearer`, never in the URL. */
  code: string;
  /** Trust only this CA (PEM file)… */
  caFile?: string;
  /** …or only the certificate in the regency's chain with this SHA-256 fingerprint. */
  fingerprint?: string;
}

export interface Fetched {
  dir: string;
  cleanup(): void;
}

const normFp = (fp: string) => fp.replace(/[^0-9a-f]/gi, '').toUpperCase();

/**
 * Fetches a village's bundle once, over TLS verified against the pinned CA only (never the
 * system store), into a private temporary folder for `installBundle`. A fingerprint pin is
 * turned into a CA first: the certificate of the regency's chain whose SHA-256 matches is
 * taken as the one trust anchor, then the request runs with full verification against it.
 */
export async function fetchBundle(o: FetchOptions): Promise<Fetched> {
  let url: URL;
  try {
    url = new URL(o.url);
  } catch {
    throw new GwError('GW_ERR_USAGE', `--from: not a URL: ${o.url}`);
  }
  if (url.protocol !== 'https:') throw new GwError('GW_ERR_USAGE', '--from must be an https:// URL');
  if (url.search || url.username || url.password)
    throw new GwError('GW_ERR_USAGE', '--from takes no query or credentials (the code goes in --code)');
  if (!o.caFile === !o.fingerprint)
    throw new GwError(
      'GW_ERR_USAGE',
      'pin the regency: give --ca FILE or --fingerprint SHA256 (one of them)',
    );
  const ca = o.caFile ? readFileSync(o.caFile, 'utf8') : await pinnedCa(url, o.fingerprint as string);
  const { status, body } = await get(url, ca, o.code);
  if (status !== 200) throw refusal(status, body);
  let parsed: { village?: unknown; files?: unknown };
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    throw new GwError('GW_ERR_VALIDATION', 'the regency answered something that is not a bundle');
  }
  const files = parsed.files as Record<string, unknown> | undefined;
  if (!files || typeof files !== 'object')
    throw new GwError('GW_ERR_VALIDATION', 'the regency answered something that is not a bundle');
  const dir = mkdtempSync(join(tmpdir(), 'kgw-bundle-'));
  chmodSync(dir, 0o700);
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  try {
    for (const [name, text] of Object.entries(files)) {
      if (!FILES.has(name) || typeof text !== 'string')
        throw new GwError('GW_ERR_VALIDATION', `unexpected file in the bundle: ${name.slice(0, 40)}`);
      writeFileSync(join(dir, name), text, {
        mode: name === 'mqtt.secret' || name === 'client.key' ? 0o600 : 0o644,
      });
    }
  } catch (err) {
    cleanup();
    throw err;
  }
  return { dir, cleanup };
}

function tlsTarget(url: URL) {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return { host, port: Number(url.port || 443), ...(isIP(host) ? {} : { servername: host }) };
}

/** The certificate of the server's chain matching the pin, as PEM; refused when none does. */
function pinnedCa(url: URL, fingerprint: string): Promise<string> {
  const want = normFp(fingerprint);
  if (want.length !== 64)
    throw new GwError('GW_ERR_USAGE', '--fingerprint: a SHA-256 fingerprint (64 hex digits)');
  return new Promise((resolve, reject) => {
    // Only to read the chain: nothing is sent over this connection.
    const socket = tls.connect({ ...tlsTarget(url), rejectUnauthorized: false, minVersion: 'TLSv1.2' });
    socket.setTimeout(TIMEOUT_MS, () => socket.destroy(new Error('timeout')));
    socket.once('error', (err) => reject(unreachable(url, err)));
    socket.once('secureConnect', () => {
      let c: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
      const seen = new Set<string>();
      let found: string | undefined;
      while (c?.raw && !seen.has(c.fingerprint256)) {
        seen.add(c.fingerprint256);
        if (normFp(c.fingerprint256) === want) found = new X509Certificate(c.raw).toString();
        c = c.issuerCertificate;
      }
      socket.destroy();
      if (found) resolve(found);
      else
        reject(
          new GwError(
            'GW_ERR_FORBIDDEN',
            `the server at ${url.host} is not the regency: no certificate in its chain has the fingerprint given`,
          ),
        );
    });
  });
}

function get(url: URL, ca: string, code: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        ...tlsTarget(url),
        path: url.pathname,
        method: 'GET',
        ca,
        minVersion: 'TLSv1.2',
        headers: { authorization: `Bearer ${code.trim()}`, accept: 'application/json' },
        timeout: TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (d: Buffer) => {
          size += d.length;
          if (size > MAX_BYTES) req.destroy(new Error('answer too large'));
          else chunks.push(d);
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => reject(unreachable(url, err)));
    req.end();
  });
}

function unreachable(url: URL, err: Error & { code?: string }): GwError {
  const tlsFault = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME|SSL|TLS/i.test(
    `${err.code ?? ''} ${err.message}`,
  );
  return tlsFault
    ? new GwError(
        'GW_ERR_FORBIDDEN',
        `the server at ${url.host} is not trusted by the pinned CA (${err.code ?? err.message}): wrong --ca, or not the regency`,
      )
    : new GwError('GW_ERR_UNAVAILABLE', `cannot reach ${url.host} (${err.code ?? err.message})`);
}

function refusal(status: number, body: string): GwError {
  let message = '';
  try {
    message = String((JSON.parse(body) as { message?: unknown }).message ?? '');
  } catch {
    // not JSON
  }
  if (status === 401)
    return new GwError('GW_ERR_UNAUTHORIZED', 'the regency refused the code: check it, or ask for a new one');
  if (status === 410)
    return new GwError('GW_ERR_FORBIDDEN', message || 'this code was used or has expired: ask for a new one');
  if (status === 429)
    return new GwError(
      'GW_ERR_RATE_LIMITED',
      'too many wrong codes from here: wait 15 minutes, then try again',
    );
  return new GwError('GW_ERR_UNAVAILABLE', `the regency answered ${status}${message ? `: ${message}` : ''}`);
}
