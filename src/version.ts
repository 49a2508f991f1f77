import { readFileSync } from 'node:fs';
import { OWN_FILES } from './paths.js';

/** The package version, read once from package.json next to dist/ or src/. */
export function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(OWN_FILES.packageJson, 'utf8')) as {
      version: string;
    };
    return pkg.version;
  } catch {
    return '0.0.0';
  }
}

export interface BuildInfo {
  version: string;
  /** Short commit of the build (dist/build-info.json, written by the build), or "unknown". */
  commit: string;
  node: string;
  arch: string;
}

/** What `kampung-gw --version` prints and `build_info` carries. */
export function buildInfo(): BuildInfo {
  let commit = 'unknown';
  try {
    const info = JSON.parse(readFileSync(OWN_FILES.buildInfo, 'utf8')) as {
      commit?: unknown;
    };
    if (typeof info.commit === 'string' && info.commit) commit = info.commit;
  } catch {
    // a build without the file (tsc alone, tests from src/): the commit is not known
  }
  return {
    version: readVersion(),
    commit,
    node: process.version,
    arch: `${process.platform}-${process.arch}`,
  };
}
