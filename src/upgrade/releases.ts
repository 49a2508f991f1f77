import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { linkTarget } from './durable-fs.js';

/** The version a release answers with on /healthz: its package.json's. */
export function releaseVersion(appDir: string, rel: string): string {
  try {
    const pkg = JSON.parse(readFileSync(join(appDir, rel, 'package.json'), 'utf8')) as { version?: unknown };
    if (typeof pkg.version === 'string') return pkg.version;
  } catch {
    // no package.json: fall back to the folder's name
  }
  return basename(rel).replace(/-source$/, '');
}

/**
 * Keeps `keep` releases: the one current names, the one previous names, then the newest of the
 * rest; removes the others and any half-unpacked leftovers (dot folders). Returns the removed.
 */
export function pruneReleases(appDir: string, keep: number): string[] {
  const dir = join(appDir, 'releases');
  if (!existsSync(dir)) return [];
  const pinned = [linkTarget(join(appDir, 'current')), linkTarget(join(appDir, 'previous'))]
    .filter((t): t is string => t !== undefined)
    .map((t) => basename(t));
  const names = readdirSync(dir);
  const rest = names
    .filter((n) => !n.startsWith('.') && !pinned.includes(n))
    .sort((a, b) => statSync(join(dir, b)).mtimeMs - statSync(join(dir, a)).mtimeMs);
  const room = Math.max(0, keep - new Set(pinned).size);
  const remove = [...names.filter((n) => n.startsWith('.')), ...rest.slice(room)];
  for (const n of remove) rmSync(join(dir, n), { recursive: true, force: true });
  return remove;
}
