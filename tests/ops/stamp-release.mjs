#!/usr/bin/env node
// For `npm run test:release`: a copy of this checkout's tracked files (as in the working tree)
// stamped as the next version with one more migration, committed in a throw-away repository,
// so that scripts/release.mjs builds from it a second, real bundle to upgrade to.
//   node tests/ops/stamp-release.mjs DIR      prints the stamped version
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dst = resolve(process.argv[2] ?? '');
if (!process.argv[2]) throw new Error('usage: stamp-release.mjs DIR');
const git = (cwd, ...args) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();

mkdirSync(dst, { recursive: true });
for (const f of git(root, 'ls-files', '-z').split('\0').filter(Boolean)) {
  try {
    cpSync(join(root, f), join(dst, f));
  } catch (err) {
    if (err.code !== 'ENOENT') throw err; // deleted in the working tree
  }
}

// The next patch version, marked as a test build.
const pkg = JSON.parse(readFileSync(join(dst, 'package.json'), 'utf8'));
const [major, minor, patch] = pkg.version.split(/[.+-]/).map(Number);
const version = `${major}.${minor}.${patch + 1}-upgradetest`;
pkg.version = version;
writeFileSync(join(dst, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
const lock = JSON.parse(readFileSync(join(dst, 'package-lock.json'), 'utf8'));
lock.version = version;
if (lock.packages?.['']) lock.packages[''].version = version;
writeFileSync(join(dst, 'package-lock.json'), `${JSON.stringify(lock, null, 2)}\n`);

// One migration after the last: a table the old version does not know, and a higher
// user_version, which the old version refuses (so a rollback must restore the snapshot).
const migDir = join(dst, 'src', 'store', 'migrations');
const last = Math.max(
  ...readdirSync(migDir)
    .map((f) => /^(\d+)-/.exec(f)?.[1])
    .filter(Boolean)
    .map(Number),
);
const n = last + 1;
const file = `${String(n).padStart(3, '0')}-upgrade-test`;
writeFileSync(
  join(migDir, `${file}.ts`),
  `import type { Migration } from './types.js';

/** Only in the stamped test build of \`npm run test:release\`. */
export const mUpgradeTest: Migration = {
  version: ${n},
  name: 'upgrade-test',
  up(db) {
    db.exec("CREATE TABLE upgrade_test (id INTEGER PRIMARY KEY, note TEXT NOT NULL)");
    db.prepare('INSERT INTO upgrade_test (note) VALUES (?)').run('migrated by ${version}');
  },
};
`,
);
const index = join(migDir, 'index.ts');
let text = readFileSync(index, 'utf8');
const end = text.lastIndexOf('];');
if (end < 0) throw new Error(`${index}: no migration list`);
text = `import { mUpgradeTest } from './${file}.js';\n${text.slice(0, end)}  mUpgradeTest,\n${text.slice(end)}`;
writeFileSync(index, text);

// Committed at the source commit's time, so release.mjs sees a clean tree with a fixed epoch.
const when = `@${git(root, 'log', '-1', '--format=%ct')} +0000`;
const env = {
  ...process.env,
  GIT_AUTHOR_NAME: 'release test',
  GIT_AUTHOR_EMAIL: 'release-test@localhost',
  GIT_COMMITTER_NAME: 'release test',
  GIT_COMMITTER_EMAIL: 'release-test@localhost',
  GIT_AUTHOR_DATE: when,
  GIT_COMMITTER_DATE: when,
};
for (const args of [
  ['init', '-q'],
  ['add', '-A'],
  ['commit', '-q', '--no-gpg-sign', '-m', version],
])
  execFileSync('git', args, { cwd: dst, env, stdio: ['ignore', 'ignore', 'inherit'] });
// The checkout's dev tools (tsc, the web build) for release.mjs's build; untracked, so not dirty.
symlinkSync(join(root, 'node_modules'), join(dst, 'node_modules'));
process.stdout.write(`${version}\n`);
