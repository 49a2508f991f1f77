#!/usr/bin/env node
// Bundles the command line (src/main.ts) into dist/main.js, over the file tsc wrote there.
// Why: unbundled, the daemon's start-up is mostly Node resolving and reading ~900 small module
// files (TypeBox alone is 250); one bundle with a chunk per lazily loaded command starts in
// about 60 % of the time (docs/system.md, footprint). tsc's per-file output stays in dist/ for
// what runs a module by its path (dist/sim/kiosk-sim.js, the benches).
//   - split: each command (`run`, `regency`, `demo`, …) stays a lazy chunk, so the daemon never
//     loads the regency's PostgreSQL driver or the demo's embedded broker;
//   - every chunk sits at dist/'s top level (src/paths.ts depends on it);
//   - native addons and their optional peers stay in node_modules;
//   - dist/bundle-inputs.json lists the sources in each file;
//   - whitespace and syntax minified, names kept: a stack trace in a technician's log still
//     names its functions.
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const CHUNK_PREFIX = 'bundle-';

for (const f of readdirSync(dist)) if (f.startsWith(CHUNK_PREFIX) && f.endsWith('.js')) rmSync(join(dist, f));

const result = await build({
  absWorkingDir: root,
  entryPoints: { main: 'src/main.ts' },
  outdir: dist,
  chunkNames: `${CHUNK_PREFIX}[name]-[hash]`,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minifyWhitespace: true,
  minifySyntax: true,
  // Native addons, found by their package at run time; pg-native is pg's optional peer.
  // mqtt.js is bundled: it is never handed a URL string, which it would read with url.parse()
  // (Node 24 warns about that call from outside node_modules; see src/report/broker-url.ts).
  external: ['better-sqlite3', 'unix-dgram', 'pg-native'],
  // CommonJS dependencies call require() for Node's built-ins: give each chunk a real one.
  banner: {
    js: "import { createRequire as __kgwRequire } from 'node:module'; const require = __kgwRequire(import.meta.url);",
  },
  metafile: true,
  logLevel: 'warning',
});

// Which sources each file of the bundle holds (dist/bundle-inputs.json): to place a stack
// trace's chunk, and for the test that the daemon loads no other command's code.
const inputs = {};
for (const [out, meta] of Object.entries(result.metafile.outputs))
  inputs[basename(out)] = Object.keys(meta.inputs).sort();
writeFileSync(join(dist, 'bundle-inputs.json'), `${JSON.stringify(inputs, null, 1)}\n`);
