#!/usr/bin/env bash
# `npm run test:release`: builds both release bundles once (signed with a throw-away key made
# here), then runs tests/ops/release.test.ts against them: a second x64 build with the addons
# compiled again must give the same bytes; the x64 bundle installs with `install.sh --bundle`
# into a staged root with no npm, compiler or node on PATH and its daemon serves /healthz;
# the arm64 bundle runs under qemu-aarch64; tampered and wrongly signed bundles are refused.
# Then tests/ops/release-upgrade.test.ts upgrades staged roots running the real daemon from
# that bundle to a second one built from this tree stamped as the next version (with rollback,
# refusals and a kill -9 at each step).
# Kept out of `npm test` (which runs four times in CI): the builds take minutes. Runtimes and
# compiled addons are cached in .runtimes/ (KGW_RUNTIME_CACHE) between runs.
# Needs g++-aarch64-linux-gnu, qemu-user-static and libc6-arm64-cross (as root it installs them).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v aarch64-linux-gnu-g++ >/dev/null || need+=(g++-aarch64-linux-gnu)
command -v qemu-aarch64-static >/dev/null || need+=(qemu-user-static)
[ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ] || need+=(libc6-arm64-cross)
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "missing Debian packages for the release tests: sudo apt-get install -y ${need[*]}" >&2
    exit 1
  fi
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/kgw-release-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
# A throw-away signing key: the tests pin its public half.
node -e '
  const { generateKeyPairSync } = require("node:crypto");
  const { writeFileSync } = require("node:fs");
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  writeFileSync(process.argv[1] + "/release.key", privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  writeFileSync(process.argv[1] + "/release.pub", publicKey.export({ type: "spki", format: "pem" }));
' "$work"

npm run --silent build
start=$(date +%s)
KGW_RELEASE_KEY=$work/release.key node scripts/release.mjs --out "$work/bundles" >/dev/null
echo "bundles built in $(($(date +%s) - start)) s"
# The version to upgrade to: this tree stamped as the next version with one more migration,
# committed in a throw-away repository and built the same way (x64 only; the runtimes and
# addons come from the cache the first build filled).
start=$(date +%s)
version_b=$(node tests/ops/stamp-release.mjs "$work/src-b")
KGW_RUNTIME_CACHE=${KGW_RUNTIME_CACHE:-$PWD/.runtimes} KGW_RELEASE_KEY=$work/release.key \
  node "$work/src-b/scripts/release.mjs" --arch x64 --out "$work/bundles" >/dev/null
rm -rf "$work/src-b"
echo "bundle $version_b built in $(($(date +%s) - start)) s"
KGW_RELEASE_TESTS=1 KGW_RELEASE_DIR=$work/bundles KGW_RELEASE_KEY=$work/release.key \
  KGW_RELEASE_B=$version_b npx vitest run tests/ops/release.test.ts tests/ops/release-upgrade.test.ts "$@"
