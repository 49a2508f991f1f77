import {
  closeSync,
  constants,
  fchownSync,
  fsyncSync,
  openSync,
  readlinkSync,
  readSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** fsync of a folder: makes a rename or an unlink inside it survive a power cut. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsync of one file's data. */
export function fsyncFile(path: string): void {
  const fd = openSync(path, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * A new file that is really new: never through a symlink or onto a file someone put there
 * first. The upgrader runs as root and writes into folders the daemon's user can write
 * (data_dir, its upgrades/): opening a planted `.x.tmp` symlink would let that user make
 * root overwrite any file. Removed first; O_EXCL|O_NOFOLLOW refuse whatever reappears.
 */
export function openFresh(path: string, mode: number): number {
  rmSync(path, { force: true });
  return openSync(
    path,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    mode,
  );
}

/** Writes a file as tmp + fsync + rename + fsync of the folder: old or new, never half. */
export function writeDurable(path: string, data: string | Buffer, mode = 0o644): void {
  const tmp = join(dirname(path), `.${basename(path)}.tmp`);
  const fd = openFresh(tmp, mode);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncDir(dirname(path));
}

/**
 * Copies `src` to a fresh `dest` (openFresh), owned by `owner` when given (fchown on the open
 * file, never on a path), fsync'd. The caller renames it into place.
 */
export function copyFresh(
  src: string,
  dest: string,
  mode: number,
  owner?: { uid: number; gid: number },
): void {
  const out = openFresh(dest, mode);
  const input = openSync(src, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = readSync(input, buf, 0, buf.length, null);
      if (n === 0) break;
      let off = 0;
      while (off < n) off += writeSync(out, buf, off, n - off);
    }
    if (owner) fchownSync(out, owner.uid, owner.gid);
    fsyncSync(out);
  } finally {
    closeSync(input);
    closeSync(out);
  }
}

/** Points the symlink `link` at target in one rename (readers see the old or the new one). */
export function swapLink(link: string, target: string): void {
  const tmp = join(dirname(link), `.${basename(link)}.tmp`);
  rmSync(tmp, { force: true });
  symlinkSync(target, tmp);
  renameSync(tmp, link);
  fsyncDir(dirname(link));
}

/** Removes a link (durably); absent is fine. */
export function removeLink(link: string): void {
  rmSync(link, { force: true });
  fsyncDir(dirname(link));
}

/** The target of a symlink as written, or undefined when there is none. */
export function linkTarget(link: string): string | undefined {
  try {
    return readlinkSync(link);
  } catch {
    return undefined;
  }
}
