import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Folders of secrets: owner only. */
export const DIR_MODE = 0o700;
export const SECRET_MODE = 0o600;
export const PUBLIC_MODE = 0o644;

/** mkdir -p with mode 0700 on every folder it creates and on the leaf (umask ignored). */
export function secureDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: DIR_MODE });
  chmodSync(path, DIR_MODE);
}

/**
 * Writes through a temp file and a rename, so a broker reloading mid-write (SIGHUP) reads the
 * old file or the new one, never half of one. The mode is set before the content lands.
 */
export function writeFileAtomic(path: string, content: string, mode: number): void {
  secureDir(dirname(path));
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, '', { mode });
  chmodSync(tmp, mode);
  writeFileSync(tmp, content);
  renameSync(tmp, path);
}
