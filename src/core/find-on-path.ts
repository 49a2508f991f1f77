import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

/**
 * Finds an executable without a shell: a name with a slash is checked as given, a bare name
 * on PATH. A few stat calls, so a poller can ask every time and skip the fork of a program
 * the box does not have (a fork of the daemon costs its event loop a few ms).
 */
export async function findOnPath(name: string, path = process.env.PATH ?? ''): Promise<string | null> {
  const candidates = name.includes('/')
    ? [name]
    : path
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, name));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  return null;
}
