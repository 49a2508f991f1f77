#!/usr/bin/env node
// `npm run bench`: runs every bench/*.mjs (or the ones named on the command line) one after
// another — never in parallel, so they do not disturb each other — and prints each one's
// JSON result line plus a summary. Build first (`npm run build`): benches use dist/.
// Options after the names go to every bench run: `npm run bench -- regency --runs 5`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
if (!existsSync(join(root, 'dist/main.js'))) {
  console.error('dist/ missing: run "npm run build" first');
  process.exit(1);
}
const argv = process.argv.slice(2);
const firstOption = argv.findIndex((a) => a.startsWith('-'));
const wanted = firstOption < 0 ? argv : argv.slice(0, firstOption);
const passed = firstOption < 0 ? [] : argv.slice(firstOption);
const benches = readdirSync(join(root, 'bench'))
  .filter((f) => f.endsWith('.mjs') && !f.startsWith('_'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)))
  .sort();
const results = [];
for (const file of benches) {
  console.error(`\n=== ${file}`);
  const r = spawnSync(process.execPath, ['--expose-gc', join(root, 'bench', file), ...passed], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    timeout: 15 * 60_000,
  });
  const last = r.stdout.trim().split('\n').filter(Boolean).pop() ?? '';
  let parsed;
  try {
    parsed = JSON.parse(last);
  } catch {
    parsed = { error: `no JSON result (exit ${r.status})`, output: r.stdout.slice(-2000) };
  }
  results.push({ bench: file, ...parsed });
  console.log(JSON.stringify({ bench: file, ...parsed }));
}
const failed = results.filter((r) => r.error);
process.exit(failed.length ? 1 : 0);
