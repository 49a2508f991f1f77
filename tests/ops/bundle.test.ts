// dist/main.js is the esbuild bundle of the command line (scripts/build-bundle.mjs), with one
// lazy chunk per command. Every test that spawns the daemon runs it; this file checks what the
// bundling itself could break: the files the daemon finds by path (the page, the villages list,
// the version), and that each command still loads only its own code.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { MAIN_JS, REPO_ROOT, TestDaemon } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

const DIST = join(REPO_ROOT, 'dist');
const tmp = tempDir('kgw-bundle-');
afterAll(() => tmp.cleanup());

// A module hook that writes every URL the process imports (ESM) to a file, one per line.
const LOG = join(tmp.path, 'imports.log');
const HOOKS = join(tmp.path, 'hooks.mjs');
const REGISTER = join(tmp.path, 'register.mjs');
writeFileSync(
  HOOKS,
  `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(${JSON.stringify(LOG)}, r.url + '\\n');
  return r;
}
`,
);
writeFileSync(
  REGISTER,
  `import { register } from 'node:module';
register(${JSON.stringify(`file://${HOOKS}`)});
`,
);

/** The files under dist/ the process imported since the log was last cleared. */
function importedDistFiles(): string[] {
  const urls = readFileSync(LOG, 'utf8').split('\n').filter(Boolean);
  const files = urls.filter((u) => u.startsWith('file:')).map((u) => fileURLToPath(u));
  writeFileSync(LOG, '');
  return [...new Set(files)];
}

/** What only the regency (its store: PostgreSQL driver, query builder) or the demo (its broker) needs. */
const FOREIGN = [
  'src/regency/',
  'src/demo/',
  'node_modules/pg/',
  'node_modules/kysely/',
  'node_modules/aedes/',
];

/** The FOREIGN prefixes of the sources in these bundle files (dist/bundle-inputs.json). */
function carries(files: string[]): string[] {
  const inputs = JSON.parse(readFileSync(join(DIST, 'bundle-inputs.json'), 'utf8')) as Record<
    string,
    string[]
  >;
  const sources = files.flatMap((f) => inputs[basename(f)] ?? []);
  expect(sources.length).toBeGreaterThan(100);
  return FOREIGN.filter((prefix) => sources.some((s) => s.startsWith(prefix)));
}

describe('the bundled command line', () => {
  it('is a bundle whose chunks all sit beside it, with no stale chunk left from an earlier build', () => {
    const head = readFileSync(MAIN_JS, 'utf8').slice(0, 400);
    expect(head.startsWith('#!/usr/bin/env -S node --max-semi-space-size=4\n')).toBe(true);
    expect(head).toContain('bundle-');
    const chunks = readdirSync(DIST).filter((f) => /^bundle-[\w-]+\.js$/.test(f));
    const mentioned = new Set<string>();
    for (const f of ['main.js', ...chunks])
      for (const m of readFileSync(join(DIST, f), 'utf8').matchAll(/"\.\/(bundle-[\w-]+\.js)"/g))
        mentioned.add(m[1] ?? '');
    // every chunk is reached from the entry or another chunk, and every reference resolves
    expect([...mentioned].sort()).toEqual([...chunks].sort());
  });

  it('runs the daemon, which finds its page, and loads neither the regency store nor the demo broker', async () => {
    writeFileSync(LOG, '');
    // With a broker to try (none listens there): handed a URL string, the bundled mqtt.js would
    // read it with url.parse(), which Node 24 warns about on stderr (src/report/broker-url.ts).
    const d = await TestDaemon.start({
      nodeArgs: ['--import', REGISTER],
      config: { mqtt: { url: 'mqtt://127.0.0.1:1', connect_delay_max_s: 0 } },
    });
    try {
      const page = await fetch(`${d.url}/`);
      expect(page.status).toBe(200);
      const html = await page.text();
      const asset = /\/assets\/[\w.-]+\.js/.exec(html)?.[0];
      expect(asset, 'the page names its script').toBeDefined();
      expect((await fetch(`${d.url}${asset}`)).status).toBe(200);
      // mqtt.connect() ran (it logs after), and failed: the URL was parsed
      await d.waitForLog((l) => /^mqtt: (connection error|disconnected)/.test(String(l.msg ?? '')));
    } finally {
      await d.dispose();
    }
    expect(d.stderr).toBe('');
    const files = importedDistFiles();
    expect(files).toContain(MAIN_JS);
    expect(files.some((f) => /bundle-run-\w+\.js$/.test(f))).toBe(true);
    // nothing from tsc's per-file output: the bundle is what runs
    expect(files.filter((f) => f.startsWith(DIST) && !/\/(main|bundle-[\w-]+)\.js$/.test(f))).toEqual([]);
    expect(carries(files)).toEqual([]);
  });

  it('finds package.json and build-info.json for --version, and the bundled villages list for the regency', () => {
    const v = spawnSync(process.execPath, [MAIN_JS, '--version'], { encoding: 'utf8' });
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const info = JSON.parse(readFileSync(join(DIST, 'build-info.json'), 'utf8')) as { commit: string };
    expect(v.stdout).toContain(`kampung-gw ${pkg.version} (commit ${info.commit},`);
    expect(info.commit).not.toBe('unknown');

    // `regency status` of a config with no villages_file counts the 203 shipped villages
    const cfg = join(tmp.path, 'regency.yaml');
    writeFileSync(
      cfg,
      `regency: { name: "Kabupaten Banyuwangi" }\ndata_dir: ${join(tmp.path, 'reg')}\nmqtt: { url: "mqtt://127.0.0.1:1" }\n`,
    );
    const r = spawnSync(
      process.execPath,
      ['--import', REGISTER, MAIN_JS, 'regency', 'status', '--json', '--config', cfg],
      {
        encoding: 'utf8',
      },
    );
    expect(r.status, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { villages: { unknown: number } }).villages.unknown).toBe(203);
    // the regency command loads its own chunk, not the demo's broker
    const files = importedDistFiles();
    expect(files.some((f) => /bundle-regency-\w+\.js$/.test(f))).toBe(true);
    const carried = carries(files);
    expect(carried).toContain('src/regency/');
    expect(carried).not.toContain('src/demo/');
    expect(carried).not.toContain('node_modules/aedes/');
  });
});
