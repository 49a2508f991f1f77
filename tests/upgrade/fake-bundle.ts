import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { sumAndSign, writePublicKey } from '../../scripts/release-sign.mjs';

const require = createRequire(import.meta.url);
/** The stub daemons open their database with the checkout's better-sqlite3. */
export const SQLITE_MODULE = require.resolve('better-sqlite3');

export interface StubRelease {
  version: string;
  /** The database schema (PRAGMA user_version) this version migrates to. */
  schema: number;
  /** false: migrates, then answers /healthz 503 for ever. */
  healthy: boolean;
}

/**
 * dist/main.js of a stub release: `run --config F` (the config is JSON, which is YAML) opens
 * data_dir/gateway.db in WAL mode, refuses a newer schema like the real store, migrates in one
 * transaction (schema 2 adds a column), records its start, and serves /healthz with its version.
 */
function stubMain(r: StubRelease): string {
  return `import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
const VERSION = ${JSON.stringify(r.version)};
const SCHEMA = ${r.schema};
const HEALTHY = ${r.healthy};
const args = process.argv.slice(2);
const config = JSON.parse(readFileSync(args[args.indexOf('--config') + 1], 'utf8'));
const Database = createRequire(import.meta.url)(process.env.KGW_TEST_SQLITE);
const db = new Database(config.data_dir + '/gateway.db');
db.pragma('journal_mode = WAL');
db.pragma('busy_timeout = 5000');
const current = db.pragma('user_version', { simple: true });
if (current > SCHEMA) {
  process.stderr.write('database is from a newer version (schema ' + current + ')\\n');
  process.exit(1);
}
db.transaction(() => {
  db.exec('CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)');
  if (SCHEMA >= 2 && current < 2) db.exec('ALTER TABLE notes ADD COLUMN v2 TEXT');
  db.pragma('user_version = ' + SCHEMA);
  db.prepare('INSERT INTO notes (text) VALUES (?)').run('started ' + VERSION);
}).immediate();
const i = config.http.listen.lastIndexOf(':');
const server = createServer((req, res) => {
  if (req.url !== '/healthz') { res.writeHead(404); res.end(); return; }
  res.writeHead(HEALTHY ? 200 : 503, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ ok: HEALTHY, db: true, version: VERSION }));
});
server.listen(Number(config.http.listen.slice(i + 1)), config.http.listen.slice(0, i));
process.on('SIGTERM', () => { server.close(); db.close(); process.exit(0); });
`;
}

export function testKey(): { privateKey: KeyObject; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/**
 * A small release bundle of a stub daemon, laid out and signed like `npm run release` (the
 * same signing code): kampung-gateway-<v>-linux-<arch>/ with dist/main.js, node/bin/node (a
 * script running this test's node), package.json, RELEASE, keys/, SHA256SUMS(.sig).
 * `tamper` runs after signing.
 */
export function buildBundle(
  outDir: string,
  r: StubRelease,
  key: KeyObject | undefined,
  tamper?: (dir: string) => void,
): string {
  const name = `kampung-gateway-${r.version}-linux-${process.arch}`;
  const work = join(outDir, `.build-${r.version}-${Math.random().toString(36).slice(2)}`);
  const dir = join(work, name);
  mkdirSync(join(dir, 'dist'), { recursive: true });
  mkdirSync(join(dir, 'node', 'bin'), { recursive: true });
  writeFileSync(join(dir, 'dist', 'main.js'), stubMain(r));
  writeFileSync(join(dir, 'node', 'bin', 'node'), `#!/bin/sh\nexec '${process.execPath}' "$@"\n`);
  chmodSync(join(dir, 'node', 'bin', 'node'), 0o755);
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: 'kampung-gateway', version: r.version, type: 'module', private: true })}\n`,
  );
  writeFileSync(
    join(dir, 'RELEASE'),
    `name=kampung-gateway\nversion=${r.version}\narch=${process.arch}\ncommit=test\nnode=${process.versions.node}\n`,
  );
  if (key) writePublicKey(dir, key);
  sumAndSign(dir, key);
  tamper?.(dir);
  const tarball = join(outDir, `${name}.tar.gz`);
  execFileSync('tar', [
    '-czf',
    tarball,
    '-C',
    work,
    '--sort=name',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    name,
  ]);
  rmSync(work, { recursive: true, force: true });
  return tarball;
}
