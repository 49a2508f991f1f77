#!/usr/bin/env bash
# Install (or upgrade) kampung-gateway on Raspberry Pi OS / Debian 12 from this checkout.
# Pasang (atau perbarui) kampung-gateway di Raspberry Pi OS / Debian 12 dari checkout ini.
#
#   sudo scripts/install.sh [--start] [--no-build]
#   scripts/install.sh --root DIR        (or INSTALL_ROOT=DIR scripts/install.sh)
#
# Safe to run again: it never overwrites /etc/kampung-gateway/config.yaml, keeps the data in
# /var/lib/kampung-gateway, and replaces /opt/kampung-gateway as a whole (built beside it first,
# so a failed download leaves the old version working). A running service is restarted so
# it never runs on deleted files.
#
# Options:
#   --start       start (or restart) the service after installing; otherwise it is only
#                 enabled, and starts at the next boot
#   --no-build    use the checkout's existing dist/ instead of `npm ci && npm run build`
#                 (build on a faster machine, copy the checkout, install on the Pi)
#   --root DIR    stage the files under DIR instead of / (same as INSTALL_ROOT=DIR): for image
#                 builders and tests. Staging copies files and sets modes only: no apt-get, no
#                 useradd, no chown, no systemctl (the unit is enabled by creating its
#                 multi-user.target.wants symlink, as `systemctl enable` would). Needs no root.
#
# Environment: INSTALL_ROOT (see --root); KAMPUNG_GW_NODE: the node binary the service runs
# (default: the first `node` on PATH).
set -euo pipefail
umask 022

readonly APP_NAME=kampung-gateway
readonly SVC_USER=kampung-gw
readonly UNIT=kampung-gateway.service
readonly MIN_NODE_MAJOR=20
# Paths on the box, without the staging root.
readonly APP_DIR=/opt/kampung-gateway
readonly CONF_DIR=/etc/kampung-gateway
readonly DATA_DIR=/var/lib/kampung-gateway
readonly BIN_LINK=/usr/local/bin/kampung-gw
readonly UNIT_DIR=/etc/systemd/system
# The binary the unit's ExecStart names; another node gets a drop-in (see write_node_dropin).
readonly UNIT_NODE=/usr/bin/node
# Runtime packages: fping for the icmp probe; a compiler, make and python3 because
# `npm ci --omit=dev` builds the native addons (unix-dgram always, better-sqlite3 when no
# prebuilt binary can be downloaded).
readonly APT_PACKAGES=(fping g++ make python3)

SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly SRC_DIR

say() { printf '==> %s\n' "$*"; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die() {
  printf 'ERROR: %s\n' "$*" >&2
  exit 1
}

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
}

START=0
BUILD=1
ROOT=${INSTALL_ROOT:-}
while [ $# -gt 0 ]; do
  case $1 in
    --start) START=1 ;;
    --no-build) BUILD=0 ;;
    --root)
      [ $# -ge 2 ] || { usage >&2; exit 2; }
      ROOT=$2
      shift
      ;;
    --root=*) ROOT=${1#--root=} ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      printf 'unknown option: %s\n\n' "$1" >&2
      usage >&2
      exit 2
      ;;
  esac
  shift
done

# "/" and "" both mean the real system.
ROOT=${ROOT%/}
STAGED=0
if [ -n "$ROOT" ]; then
  STAGED=1
  mkdir -p "$ROOT"
  ROOT=$(cd "$ROOT" && pwd)
fi
readonly ROOT STAGED START BUILD

# --- checks -------------------------------------------------------------------------------

check_node() {
  NODE=${KAMPUNG_GW_NODE:-$(command -v node || true)}
  if [ -z "$NODE" ] || ! [ -x "$NODE" ]; then
    cat >&2 <<EOF
ERROR: Node.js >= $MIN_NODE_MAJOR not found. / Node.js >= $MIN_NODE_MAJOR tidak ditemukan.
Debian 12's own nodejs package is version 18, too old. Install Node.js $MIN_NODE_MAJOR LTS from NodeSource:
Paket nodejs bawaan Debian 12 versi 18, terlalu lama. Pasang Node.js $MIN_NODE_MAJOR LTS dari NodeSource:
  curl -fsSL https://deb.nodesource.com/setup_$MIN_NODE_MAJOR.x | sudo bash -
  sudo apt-get install -y nodejs
EOF
    exit 1
  fi
  local version major
  version=$("$NODE" -p 'process.versions.node' 2>/dev/null || true)
  major=${version%%.*}
  if ! [[ $major =~ ^[0-9]+$ ]] || [ "$major" -lt "$MIN_NODE_MAJOR" ]; then
    cat >&2 <<EOF
ERROR: $NODE is Node.js ${version:-(unknown)}; kampung-gateway needs >= $MIN_NODE_MAJOR.
ERROR: $NODE adalah Node.js ${version:-(tidak diketahui)}; kampung-gateway butuh >= $MIN_NODE_MAJOR.
Upgrade from NodeSource / Perbarui dari NodeSource:
  curl -fsSL https://deb.nodesource.com/setup_$MIN_NODE_MAJOR.x | sudo bash -
  sudo apt-get install -y nodejs
EOF
    exit 1
  fi
  # The unit has ProtectHome=yes: a node under /home or /root (nvm, fnm, volta) is invisible
  # to the service.
  case $NODE in
    /home/* | /root/*) die "$NODE is inside a home directory, which the service cannot see (ProtectHome=yes). Install Node.js system-wide (NodeSource)." ;;
  esac
  command -v npm >/dev/null || die "npm not found; it comes with NodeSource's nodejs package. / npm tidak ditemukan."
  NODE_ABI="$("$NODE" -p 'process.platform + "-" + process.arch + "-abi" + process.versions.modules')"
  say "Node.js $version ($NODE)"
}

check_source() {
  if ! grep -Eqs '"name":[[:space:]]*"kampung-gateway"' "$SRC_DIR/package.json"; then
    die "$SRC_DIR is not a kampung-gateway checkout"
  fi
  [ -f "$SRC_DIR/package-lock.json" ] || die "package-lock.json missing in $SRC_DIR"
  [ -f "$SRC_DIR/systemd/$UNIT" ] || die "systemd/$UNIT missing in $SRC_DIR"
  [ -f "$SRC_DIR/config/example.yaml" ] || die "config/example.yaml missing in $SRC_DIR"
}

# --- steps --------------------------------------------------------------------------------

install_packages() {
  local missing=() pkg
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    say "packages present: ${APT_PACKAGES[*]}"
    return
  fi
  say "apt-get install ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

create_user() {
  if getent passwd "$SVC_USER" >/dev/null; then
    say "user $SVC_USER exists"
    return
  fi
  say "creating system user $SVC_USER"
  useradd --system --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin --comment "kampung-gateway daemon" "$SVC_USER"
}

# Runs a command in the checkout as the checkout's owner, so `sudo install.sh` leaves no
# root-owned node_modules/ or dist/ in a technician's clone.
as_checkout_owner() {
  local owner home
  owner=$(stat -c %U "$SRC_DIR")
  if [ "$(id -u)" -ne 0 ] || [ "$owner" = root ] || [ "$owner" = UNKNOWN ]; then
    (cd "$SRC_DIR" && "$@")
    return
  fi
  home=$(getent passwd "$owner" | cut -d: -f6)
  (cd "$SRC_DIR" && runuser -u "$owner" -- env HOME="$home" "$@")
}

build_checkout() {
  if [ "$BUILD" -eq 1 ]; then
    say "building in $SRC_DIR (npm ci && npm run build)"
    as_checkout_owner npm ci --no-audit --no-fund
    # tsc never deletes outputs of removed sources: start from an empty dist/.
    as_checkout_owner rm -rf dist
    as_checkout_owner npm run build
  else
    say "--no-build: using the existing $SRC_DIR/dist"
  fi
  [ -f "$SRC_DIR/dist/main.js" ] || die "$SRC_DIR/dist/main.js missing (build failed, or --no-build without a build)"
}

# Builds the new tree beside the old one, then swaps: an interrupted download or a failed
# native build leaves the installed version untouched.
install_app() {
  local app=$ROOT$APP_DIR
  local new=$app.new old=$app.old stamp
  rm -rf "$new" "$old"
  mkdir -p "$new"
  cp -R "$SRC_DIR/dist" "$SRC_DIR/config" "$SRC_DIR/package.json" "$SRC_DIR/package-lock.json" "$new/"
  if [ -d "$SRC_DIR/docs" ]; then cp -R "$SRC_DIR/docs" "$new/"; fi

  # node_modules depends only on the lockfile and the node ABI (native addons): when both
  # are unchanged, hard-link the installed one instead of downloading it again over a paid
  # village link.
  stamp="$(sha256sum <"$SRC_DIR/package-lock.json" | cut -d' ' -f1) $NODE_ABI"
  if [ -d "$app/node_modules" ] && [ -f "$app/.deps-stamp" ] && [ "$(cat "$app/.deps-stamp")" = "$stamp" ]; then
    say "dependencies unchanged, reusing $APP_DIR/node_modules"
    cp -al "$app/node_modules" "$new/node_modules"
  else
    say "npm ci --omit=dev in $APP_DIR"
    (cd "$new" && npm ci --omit=dev --no-audit --no-fund)
  fi
  printf '%s\n' "$stamp" >"$new/.deps-stamp"

  # Root-owned and read-only for everyone else; the daemon never writes here.
  chmod -R u=rwX,go=rX "$new"
  chmod 0755 "$new/dist/main.js"
  [ "$STAGED" -eq 1 ] || chown -R root:root "$new"

  if [ -e "$app" ]; then mv "$app" "$old"; fi
  mv "$new" "$app"
  rm -rf "$old"
  say "installed $APP_DIR"
}

# mkdir -p + mode + owner (owner only on a real install: staged trees have no such user).
ensure_dir() {
  local dir=$ROOT$1 mode=$2 owner=$3
  mkdir -p "$dir"
  chmod "$mode" "$dir"
  [ "$STAGED" -eq 1 ] || chown "$owner" "$dir"
}

install_config() {
  ensure_dir "$CONF_DIR" 0750 "root:$SVC_USER"
  ensure_dir "$CONF_DIR/devices" 0750 "root:$SVC_USER"
  local conf=$ROOT$CONF_DIR/config.yaml
  if [ -e "$conf" ] || [ -L "$conf" ]; then
    say "$CONF_DIR/config.yaml exists, left untouched"
    return
  fi
  # Written under a temporary name and renamed, so a half-written config never exists.
  cp "$SRC_DIR/config/example.yaml" "$conf.tmp"
  chmod 0640 "$conf.tmp"
  [ "$STAGED" -eq 1 ] || chown "root:$SVC_USER" "$conf.tmp"
  mv "$conf.tmp" "$conf"
  say "installed $CONF_DIR/config.yaml from config/example.yaml"
}

install_data_dir() {
  ensure_dir "$DATA_DIR" 0750 "$SVC_USER:$SVC_USER"
  # Files created by a CLI command run as root (e.g. `sudo kampung-gw user add`) would lock
  # the daemon out of its own database.
  [ "$STAGED" -eq 1 ] || chown -R "$SVC_USER:$SVC_USER" "$ROOT$DATA_DIR"
}

install_bin_link() {
  mkdir -p "$ROOT$(dirname "$BIN_LINK")"
  ln -sfn "$APP_DIR/dist/main.js" "$ROOT$BIN_LINK"
  say "$BIN_LINK -> $APP_DIR/dist/main.js"
}

# The unit runs /usr/bin/node; a node installed elsewhere gets an ExecStart override.
write_node_dropin() {
  local dir=$ROOT$UNIT_DIR/$UNIT.d
  local dropin=$dir/10-node-path.conf
  if [ "$NODE" -ef "$UNIT_NODE" ]; then
    rm -f "$dropin"
    rmdir "$dir" 2>/dev/null || true
    return
  fi
  mkdir -p "$dir"
  local exec_line
  exec_line=$(grep '^ExecStart=' "$SRC_DIR/systemd/$UNIT")
  {
    printf '# Written by scripts/install.sh: node is %s, not %s.\n' "$NODE" "$UNIT_NODE"
    printf '[Service]\nExecStart=\n%s\n' "${exec_line/"$UNIT_NODE"/"$NODE"}"
  } >"$dropin.tmp"
  chmod 0644 "$dropin.tmp"
  mv "$dropin.tmp" "$dropin"
  say "node is $NODE: wrote $UNIT_DIR/$UNIT.d/10-node-path.conf"
}

install_unit() {
  mkdir -p "$ROOT$UNIT_DIR"
  install -m 0644 "$SRC_DIR/systemd/$UNIT" "$ROOT$UNIT_DIR/$UNIT.tmp"
  mv "$ROOT$UNIT_DIR/$UNIT.tmp" "$ROOT$UNIT_DIR/$UNIT"
  write_node_dropin
  if [ "$STAGED" -eq 1 ]; then
    # What `systemctl enable` does for WantedBy=multi-user.target.
    mkdir -p "$ROOT$UNIT_DIR/multi-user.target.wants"
    ln -sfn "$UNIT_DIR/$UNIT" "$ROOT$UNIT_DIR/multi-user.target.wants/$UNIT"
    say "staged: $UNIT enabled (symlink), nothing started"
    return
  fi
  systemctl daemon-reload
  systemctl enable "$UNIT"
  if [ "$START" -eq 1 ] || systemctl is-active --quiet "$UNIT"; then
    # Also on a plain upgrade: the old process must not keep running on a deleted tree.
    say "restarting $UNIT"
    # A unit that hit its start limit refuses to start until the failure is cleared.
    if systemctl is-failed --quiet "$UNIT"; then systemctl reset-failed "$UNIT"; fi
    systemctl restart "$UNIT"
  else
    say "$UNIT enabled; not started (use --start, or reboot)"
  fi
}

next_steps() {
  cat <<EOF

kampung-gateway terpasang. / kampung-gateway is installed.

Langkah berikut / Next steps:
  1. Sunting konfigurasi: kode desa, probe uplink, perangkat, broker MQTT.
     Edit the config: village code, uplink probes, devices, MQTT broker.
       sudo nano $CONF_DIR/config.yaml
  2. Buat file token tiap perangkat dan file sandi MQTT (mode 0640, grup $SVC_USER).
     Create one token file per device and the MQTT password file (mode 0640, group $SVC_USER).
       sudo sh -c 'umask 027; head -c 24 /dev/urandom | base64 > $CONF_DIR/devices/adm-1.token'
       sudo sh -c 'umask 027; cat > $CONF_DIR/mqtt.secret'      # ketik sandi, lalu Ctrl-D / type it, then Ctrl-D
       sudo chgrp $SVC_USER $CONF_DIR/devices/*.token $CONF_DIR/mqtt.secret
  3. Periksa konfigurasi / Check the config:
       sudo kampung-gw check-config
  4. Jalankan layanan / Start the service:
       sudo systemctl restart $APP_NAME
  5. Buka http://<alamat-box>:8080/ dan buat akun teknisi pertama dengan kode setup dari log.
     Open http://<box-address>:8080/ and create the first technician with the setup code from the log.
       journalctl -u $APP_NAME | grep -i setup
  6. Diagnosis di perangkat / On-box diagnosis:
       sudo kampung-gw doctor
       journalctl -u $APP_NAME -f
EOF
  if [ "$STAGED" -eq 1 ]; then
    printf '\n(staged under %s: no packages, users, owners or services were touched)\n' "$ROOT"
  fi
}

main() {
  if [ "$STAGED" -eq 0 ] && [ "$(id -u)" -ne 0 ]; then
    die "run as root (sudo $0), or stage into a directory with --root DIR / INSTALL_ROOT=DIR"
  fi
  check_source
  check_node
  if [ "$STAGED" -eq 1 ]; then
    say "staging into $ROOT"
    [ "$START" -eq 0 ] || warn "--start ignored when staging"
  else
    install_packages
    create_user
  fi
  build_checkout
  install_app
  install_config
  install_data_dir
  install_bin_link
  install_unit
  next_steps
}

main
