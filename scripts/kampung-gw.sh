#!/bin/sh
# /usr/local/bin/kampung-gw on an installed box (a symlink to this file in the installed
# release): runs the release's own node (node/bin/node: the bundled Node 24, or a link to the
# system's node for a source install) on the release's dist/main.js, with the same V8 flags
# as the systemd unit's ExecStart. A bundle box has no node on PATH, so the shebang of
# dist/main.js (`/usr/bin/env node`) cannot be used there.
set -e
app=$(dirname "$(dirname "$(readlink -f "$0")")")
exec "$app/node/bin/node" --max-semi-space-size=4 "$app/dist/main.js" "$@"
