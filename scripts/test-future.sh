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
exec faketime -f '+365d' scripts/test.sh "$@"
