#!/usr/bin/env bash
# The project's test command (`npm test`): makes sure the system packages the tests drive
# are present, builds, and runs the whole suite. As root it installs what is missing;
# otherwise it names the packages to install and stops.
set -euo pipefail
cd "$(dirname "$0")/.."

# command -> Debian package
declare -A NEEDED=(
  [mosquitto]=mosquitto
  [fping]=fping
  [chromium]=chromium
  [shellcheck]=shellcheck
  [faketime]=faketime
  [iptables]=iptables
  [ip]=iproute2
  [systemd-analyze]=systemd
  [promtool]=prometheus
  [openssl]=openssl
)
missing=()
for cmd in "${!NEEDED[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || missing+=("${NEEDED[$cmd]}")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing test packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "missing Debian packages for the tests; install them with:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

[ -d node_modules ] || npm ci
npm run --silent build
mkdir -p test-artifacts
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=test-artifacts/vitest.json "$@" || status=$?
# One plain closing line for whoever reads the log: "N passed, N failed, N skipped".
# shellcheck disable=SC2016 # the ${...} below are JavaScript, not shell
node -e '
  const r = JSON.parse(require("fs").readFileSync("test-artifacts/vitest.json", "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' || true
exit "$status"
