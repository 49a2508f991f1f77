// The signing half of a release bundle, shared by `npm run release` and the upgrade tests (which
// sign small bundles of their own with a test key): SHA256SUMS over every file of the tree
// (sorted bytewise, symlinks refused), SHA256SUMS.sig (ed25519, base64) and keys/release.pub.
// The checking half is src/upgrade/bundle-verify.ts (and scripts/install.sh --bundle).
import { createHash, createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Every file under dir (relative, sorted bytewise); refuses symlinks and special files. */
export function listFiles(dir) {
  const files = [];
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) files.push(relative(dir, p));
      else throw new Error(`${p}: not a regular file (symlinks are not allowed in a bundle)`);
    }
  };
  walk(dir);
  return files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The ed25519 private key in keyFile (PEM), refused if it is another kind. */
export function readSigningKey(keyFile) {
  const key = createPrivateKey(readFileSync(keyFile));
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${keyFile}: not an ed25519 key`);
  return key;
}

/** Writes keys/release.pub (the public half of key); call before sumAndSign. */
export function writePublicKey(dir, key) {
  mkdirSync(join(dir, 'keys'), { recursive: true });
  writeFileSync(
    join(dir, 'keys', 'release.pub'),
    createPublicKey(key).export({ type: 'spki', format: 'pem' }),
  );
}

/** SHA256SUMS over every file of dir and, with a key, SHA256SUMS.sig over it. */
export function sumAndSign(dir, key) {
  const sums = listFiles(dir)
    .map(
      (f) =>
        `${createHash('sha256')
          .update(readFileSync(join(dir, f)))
          .digest('hex')}  ${f}\n`,
    )
    .join('');
  writeFileSync(join(dir, 'SHA256SUMS'), sums, { mode: 0o644 });
  if (key)
    writeFileSync(join(dir, 'SHA256SUMS.sig'), `${sign(null, Buffer.from(sums), key).toString('base64')}\n`);
  return sums;
}
