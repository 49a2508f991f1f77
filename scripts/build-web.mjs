#!/usr/bin/env node
// Bundles the two pages: the technician page (src/web/static → dist/web/static) and the
// regency's fleet page (src/regency/static → dist/regency/static). Each: one ES module entry
// plus a lazily loaded chunk for the charts (plain SVG), one stylesheet, content-hashed names
// (cached for a year by the server) and pre-compressed .br/.gz copies for slow links.
// Usage: node scripts/build-web.mjs                       both pages into dist/
//        node scripts/build-web.mjs --out DIR [--page technician|regency]   one page into DIR
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const PAGES = {
  technician: { src: join(root, 'src/web/static'), out: join(root, 'dist/web/static') },
  regency: { src: join(root, 'src/regency/static'), out: join(root, 'dist/regency/static') },
};
const flag = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const outFlag = flag('--out');
const only = flag('--page') ?? (outFlag ? 'technician' : undefined);
if (only && !PAGES[only]) throw new Error(`unknown page ${only}`);

for (const [name, page] of Object.entries(PAGES)) {
  if (only && name !== only) continue;
  await buildPage(page.src, outFlag ? resolve(outFlag) : page.out);
}

async function buildPage(src, out) {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });

  const result = await build({
    entryPoints: { app: join(src, 'js/main.js'), style: join(src, 'style.css') },
    bundle: true,
    splitting: true,
    format: 'esm',
    // ES2019: what phones from ~2019 on run (Android WebView/Chrome 73+, iOS 13+).
    target: 'es2019',
    minify: true,
    sourcemap: false,
    outdir: join(out, 'assets'),
    entryNames: '[name]-[hash]',
    chunkNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
  });

  const outputs = Object.entries(result.metafile.outputs);
  const find = (entry) => {
    const hit = outputs.find(([, o]) => o.entryPoint?.endsWith(entry));
    if (!hit) throw new Error(`no output for ${entry}`);
    return `/${relative(out, resolve(process.cwd(), hit[0]))}`;
  };
  const html = readFileSync(join(src, 'index.html'), 'utf8')
    .replace('{{CSS}}', find('style.css'))
    .replace('{{JS}}', find('js/main.js'));
  writeFileSync(join(out, 'index.html'), html);

  let total = 0;
  for (const file of [...outputs.map(([p]) => resolve(process.cwd(), p)), join(out, 'index.html')]) {
    const body = readFileSync(file);
    if (body.length < 512) continue;
    writeFileSync(`${file}.gz`, gzipSync(body, { level: 9 }));
    const br = brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } });
    writeFileSync(`${file}.br`, br);
    total += br.length;
  }
  console.log(
    `web page built in ${relative(root, out)}: ${outputs.length} files, ${(total / 1024).toFixed(1)} KiB brotli`,
  );
}
