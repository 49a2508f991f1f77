import { execFileSync } from 'node:child_process';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/daemon.js';

const TARGET = join(REPO_ROOT, 'dist', 'web', 'static');

/**
 * Builds the page into dist/web/static if it is missing (e.g. a `build` script that runs tsc
 * only). Built aside and renamed into place, so two test workers racing do not see half a page.
 */
export function ensurePageBuilt(): void {
  if (existsSync(join(TARGET, 'index.html'))) return;
  const tmp = `${TARGET}.tmp-${process.pid}`;
  execFileSync(process.execPath, [join(REPO_ROOT, 'scripts', 'build-web.mjs'), '--out', tmp], {
    stdio: 'ignore',
  });
  try {
    if (!existsSync(join(TARGET, 'index.html'))) {
      rmSync(TARGET, { recursive: true, force: true });
      renameSync(tmp, TARGET);
    }
  } catch {
    // another worker won the race; its page is as good as ours
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
