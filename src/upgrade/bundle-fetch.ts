import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { fsyncFile } from './durable-fs.js';

/** A release bundle is ~50 MiB; anything far larger is not one. */
export const MAX_BUNDLE_BYTES = 256 * 1024 * 1024;

export interface FetchProgress {
  bytes: number;
  total: number | null;
  attempts: number;
}

export interface FetchOptions {
  url: URL;
  /** The finished file; the download goes to dest + '.part' and is renamed once its sha256 matches. */
  dest: string;
  sha256: string;
  signal: AbortSignal;
  attempts?: number;
  /** Wait before attempt n (1-based): default 2 s × n, at most 60 s. */
  backoffMs?(attempt: number): number;
  onProgress?(p: FetchProgress): void;
}

export class FetchError extends Error {}

function request(url: URL, from: number, signal: AbortSignal): Promise<IncomingMessage> {
  const get = url.protocol === 'https:' ? httpsGet : httpGet;
  return new Promise((resolve, reject) => {
    const req = get(
      url,
      { signal, timeout: 30_000, headers: from > 0 ? { range: `bytes=${from}-` } : {} },
      resolve,
    );
    req.on('timeout', () => req.destroy(new FetchError('no data for 30 s')));
    req.on('error', reject);
  });
}

/**
 * Appends one response to the part file; resolves with the bytes received when the answer was
 * complete. A cut connection still ends the file cleanly (what arrived is written, not dropped),
 * so the next attempt asks only for the rest.
 */
function receive(
  res: IncomingMessage,
  part: string,
  append: boolean,
  start: number,
  o: FetchOptions,
  p: FetchProgress,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(part, { flags: append ? 'a' : 'w', mode: 0o640 });
    let bytes = start;
    let failure: Error | undefined;
    const stop = (err: Error) => {
      if (failure) return;
      failure = err;
      res.unpipe(out);
      out.end();
    };
    res.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      p.bytes = bytes;
      o.onProgress?.({ ...p });
      if (bytes > MAX_BUNDLE_BYTES) {
        stop(new FetchError(`larger than ${MAX_BUNDLE_BYTES} bytes`));
        res.destroy();
      }
    });
    res.on('error', (err) => stop(err));
    res.on('aborted', () => stop(new FetchError('connection cut')));
    res.on('close', () => {
      if (!res.complete) stop(new FetchError('connection cut'));
    });
    out.on('error', reject);
    out.on('finish', () => {
      if (failure || !res.complete) reject(failure ?? new FetchError('connection cut'));
      else resolve(bytes);
    });
    res.pipe(out);
  });
}

async function sha256Of(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return h.digest('hex');
}

/**
 * Downloads a bundle over a bad link: what arrived is kept in dest.part, and each new attempt
 * asks only for the rest (Range); a server that ignores Range starts it over. The file becomes
 * dest only when its sha256 is the expected one; a wrong one is deleted.
 */
export async function fetchBundle(o: FetchOptions): Promise<FetchProgress> {
  const part = `${o.dest}.part`;
  const attempts = o.attempts ?? 8;
  const p: FetchProgress = { bytes: existsSync(part) ? statSync(part).size : 0, total: null, attempts: 0 };
  let lastErr: unknown;
  let done = false;
  while (!done && p.attempts < attempts) {
    if (o.signal.aborted) throw new FetchError('aborted');
    if (p.attempts > 0) {
      const wait = o.backoffMs?.(p.attempts) ?? Math.min(60_000, 2000 * p.attempts);
      await new Promise((r) => setTimeout(r, wait));
    }
    p.attempts++;
    try {
      const from = existsSync(part) ? statSync(part).size : 0;
      const res = await request(o.url, from, o.signal);
      if (res.statusCode === 416 && from > 0) {
        res.resume();
        done = true; // everything is here already
        break;
      }
      if (res.statusCode !== 200 && res.statusCode !== 206) {
        res.resume();
        throw new FetchError(`HTTP ${res.statusCode}`);
      }
      const resumed = res.statusCode === 206 && from > 0;
      const len = Number(res.headers['content-length'] ?? Number.NaN);
      p.total = Number.isFinite(len) ? (resumed ? from + len : len) : null;
      if (p.total !== null && p.total > MAX_BUNDLE_BYTES) {
        res.destroy();
        throw new FetchError(`larger than ${MAX_BUNDLE_BYTES} bytes`);
      }
      p.bytes = await receive(res, part, resumed, resumed ? from : 0, o, p);
      done = true;
    } catch (err) {
      lastErr = err;
      if (o.signal.aborted) throw new FetchError('aborted');
    }
  }
  if (!done)
    throw new FetchError(
      `download failed after ${p.attempts} attempts: ${(lastErr as Error)?.message ?? 'no data'}`,
    );
  const got = await sha256Of(part);
  if (got !== o.sha256) {
    rmSync(part, { force: true });
    throw new FetchError(`downloaded file's sha256 is ${got}, expected ${o.sha256}`);
  }
  fsyncFile(part);
  renameSync(part, o.dest);
  return p;
}
