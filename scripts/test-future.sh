#!/usr/bin/env bash
# `npm run test:future`: the whole suite with every clock a year ahead (libfaketime on the test
# runner and on every daemon, broker and helper it starts), to prove no test depends on the date
# it runs on. fping and Chromium misbehave under the preload, so the test helpers run them through
# tests/helpers/no-faketime/ (same binaries, preload cleared). Same closing line as `npm test`.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v faketime >/dev/null || { echo "faketime missing: apt-get install faketime" >&2; exit 1; }
here="$(pwd)/tests/helpers/no-faketime"
export PATH="$here:$PATH"
export CHROMIUM_PATH="$here/chromium"
export KGW_TEST_FUTURE=1
# The property and fuzz tests run at full size in `npm test`; here a fifth of their cases keeps
# CI inside its time budget (`npm run fuzz` runs twenty times as many).
export FUZZ_SCALE="${FUZZ_SCALE:-0.2}"
exec faketime -f '+365d' scripts/test.sh "$@"
