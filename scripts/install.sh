#!/usr/bin/env bash
# Install (or upgrade) kampung-gateway on Raspberry Pi OS / Debian 12.
# Pasang (atau perbarui) kampung-gateway di Raspberry Pi OS / Debian 12.
#
#   sudo scripts/install.sh --bundle kampung-gateway-<version>-linux-<arch>.tar.gz [--start]
#   sudo scripts/install.sh [--start] [--no-build]          (from this checkout: developers)
#   ... --root DIR                       (or INSTALL_ROOT=DIR: stage instead of installing)
#
# Layout: every install is a release in /opt/kampung-gateway/releases/<name>, and
# /opt/kampung-gateway/current is a symlink to the one that runs (switched by one rename;
# `previous` names the one before). The last two releases are kept, older ones removed.
#
# Safe to run again: it never overwrites /etc/kampung-gateway/config.yaml, keeps the data in
# /var/lib/kampung-gateway, and builds or unpacks a release beside the running one, so a failed
# build or a bad bundle leaves the old version working. A running service is restarted.
#
# Options:
#   --bundle FILE  install a release bundle (`npm run release`): no compiler, no npm, no
#                 network. Its SHA256SUMS is checked against every file, and its signature
#                 against the pinned key (--pubkey, or keys/release.pub of the installed
#                 release), before anything is changed. Needs tar, gzip, sha256sum and a node
#                 for the signature (the installed release's, else node on PATH, else the
#                 bundle's own after its checksums passed).
#   --pubkey FILE pin this ed25519 public key (PEM): the bundle must be signed with it
#   --start       start (or restart) the service after installing; otherwise it is only
#                 enabled, and starts at the next boot
#   --no-build    (source install) use the checkout's existing dist/ instead of
#                 `npm ci && npm run build` (build on a faster machine, copy the checkout)
#   --root DIR    stage the files under DIR instead of / (same as INSTALL_ROOT=DIR): for image
#                 builders and tests. Staging copies files and sets modes only: no apt-get, no
#                 useradd, no chown, no systemctl (the unit is enabled by creating its
#                 multi-user.target.wants symlink, as `systemctl enable` would). Needs no root.
#
# Environment: INSTALL_ROOT (see --root); KAMPUNG_GW_NODE: the node binary a source install
# runs (default: the first `node` on PATH), or that checks a bundle's signature.
set -euo pipefail
umask 022

readonly APP_NAME=kampung-gateway
readonly SVC_USER=kampung-gw
readonly UNIT=kampung-gateway.service
# `kampung-gw upgrade --resume` as root, started by its path unit (docs/release.md#upgrade).
readonly UPGRADE_UNITS=(kampung-gateway-upgrade.service kampung-gateway-upgrade.path)
readonly MIN_NODE_MAJOR=20
# Paths on the box, without the staging root.
readonly APP_DIR=/opt/kampung-gateway
readonly CONF_DIR=/etc/kampung-gateway
readonly DATA_DIR=/var/lib/kampung-gateway
readonly RELEASES=$APP_DIR/releases
readonly BIN_LINK=/usr/local/bin/kampung-gw
readonly UNIT_DIR=/etc/systemd/system
# Written by installers before the releases/ layout; it would point the unit at the old tree.
readonly OLD_DROPIN=10-node-path.conf
# Runtime packages: fping for the icmp probe; a compiler, make and python3 because
# `npm ci --omit=dev` builds the native addons (unix-dgram always, better-sqlite3 when no
# prebuilt binary can be downloaded).
readonly APT_PACKAGES=(fping g++ make python3)

# The checkout (source install) or, with --bundle, the verified unpacked bundle.
SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

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
BUNDLE=
PUBKEY=
ROOT=${INSTALL_ROOT:-}
while [ $# -gt 0 ]; do
  case $1 in
    --start) START=1 ;;
    --bundle | --pubkey)
      [ $# -ge 2 ] || { usage >&2; exit 2; }
      if [ "$1" = --bundle ]; then BUNDLE=$2; else PUBKEY=$2; fi
      shift
      ;;
    --bundle=*) BUNDLE=${1#--bundle=} ;;
    --pubkey=*) PUBKEY=${1#--pubkey=} ;;
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
readonly ROOT STAGED START BUILD BUNDLE PUBKEY

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

# --- bundle ------------------------------------------------------------------------------

# `uname -m` in the RELEASE file's words.
host_arch() {
  case $(uname -m) in
    x86_64) echo x64 ;;
    aarch64 | arm64) echo arm64 ;;
    *) uname -m ;;
  esac
}

# One value of the bundle's RELEASE file (key=value lines).
release_field() {
  sed -n "s/^$1=//p" "$SRC_DIR/RELEASE" | head -n1
}

# A node to check the signature with: one already trusted on this box before the bundle's own.
pick_verify_node() {
  local n
  for n in "${KAMPUNG_GW_NODE:-}" "$ROOT$APP_DIR/current/node/bin/node" "$(command -v node || true)"; do
    if [ -n "$n" ] && [ -x "$n" ] && "$n" -e '' 2>/dev/null; then
      echo "$n"
      return
    fi
  done
  n=$SRC_DIR/node/bin/node
  if [ -x "$n" ] && "$n" -e '' 2>/dev/null; then
    warn "no node on this box yet: the signature is checked by the bundle's own node (its checksums passed)"
    echo "$n"
  fi
}

# ed25519 over SHA256SUMS (SHA256SUMS.sig: base64), checked with node:crypto.
check_signature() { # pubkey.pem
  local node
  node=$(pick_verify_node)
  [ -n "$node" ] || die "no node to check the signature with (set KAMPUNG_GW_NODE)"
  # shellcheck disable=SC2016 # JavaScript, not shell
  "$node" -e '
    const { createPublicKey, verify } = require("node:crypto");
    const { readFileSync } = require("node:fs");
    const [key, sums, sig] = process.argv.slice(1);
    const ok = verify(null, readFileSync(sums), createPublicKey(readFileSync(key)),
      Buffer.from(readFileSync(sig, "utf8").trim(), "base64"));
    process.exit(ok ? 0 : 1);
  ' "$1" "$SRC_DIR/SHA256SUMS" "$SRC_DIR/SHA256SUMS.sig" 2>/dev/null
}

# Unpacks the bundle into a temporary folder and checks it; nothing on the box changes here.
# Sets SRC_DIR to the unpacked release and REL_NAME to its version.
verify_bundle() {
  [ -f "$BUNDLE" ] || die "bundle $BUNDLE not found / bundle tidak ditemukan"
  local pinned=$PUBKEY tops
  if [ -z "$pinned" ] && [ -f "$ROOT$APP_DIR/current/keys/release.pub" ]; then
    pinned=$ROOT$APP_DIR/current/keys/release.pub
  fi
  [ -z "$pinned" ] || [ -f "$pinned" ] || die "public key $pinned not found"
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/kampung-gateway-bundle.XXXXXX")
  trap 'rm -rf "$WORK"' EXIT
  local err
  if ! err=$(tar -xzf "$BUNDLE" -C "$WORK" --no-same-owner 2>&1); then
    die "$BUNDLE is damaged (${err:0:300}) / bundle rusak; refused"
  fi
  tops=$(find "$WORK" -mindepth 1 -maxdepth 1 | wc -l)
  SRC_DIR=$(find "$WORK" -mindepth 1 -maxdepth 1 -type d -name 'kampung-gateway-*')
  if [ "$tops" -ne 1 ] || [ -z "$SRC_DIR" ] || ! [ -f "$SRC_DIR/SHA256SUMS" ] || ! [ -f "$SRC_DIR/RELEASE" ]; then
    die "$BUNDLE is not a kampung-gateway release bundle"
  fi
  if [ -n "$(find "$SRC_DIR" ! -type f ! -type d | head -n1)" ]; then
    die "$BUNDLE contains links or special files; refused"
  fi
  # Every file is listed, and every listed file matches.
  local listed present
  listed=$(cut -c67- "$SRC_DIR/SHA256SUMS" | LC_ALL=C sort)
  present=$(cd "$SRC_DIR" && find . -type f ! -path ./SHA256SUMS ! -path ./SHA256SUMS.sig | sed 's|^\./||' | LC_ALL=C sort)
  [ "$listed" = "$present" ] || die "$BUNDLE: files differ from SHA256SUMS (added or missing files); refused"
  (cd "$SRC_DIR" && sha256sum --check --quiet --strict SHA256SUMS >/dev/null 2>&1) ||
    die "$BUNDLE: SHA256SUMS check failed (damaged or altered) / checksum salah; refused"
  say "checksums OK ($(wc -l <"$SRC_DIR/SHA256SUMS") files)"
  if [ -n "$pinned" ]; then
    [ -f "$SRC_DIR/SHA256SUMS.sig" ] || die "$BUNDLE is unsigned but a key is pinned ($pinned); refused"
    check_signature "$pinned" || die "$BUNDLE: signature does not match the pinned key $pinned / tanda tangan salah; refused"
    say "signature OK (pinned key $pinned)"
  elif [ -f "$SRC_DIR/SHA256SUMS.sig" ] && [ -f "$SRC_DIR/keys/release.pub" ]; then
    check_signature "$SRC_DIR/keys/release.pub" || die "$BUNDLE: signature does not match its own key; refused"
    warn "no pinned key yet: trusting the bundle's keys/release.pub, which is pinned from now on"
  else
    warn "UNSIGNED bundle and no pinned key: only the checksums were checked"
  fi
  REL_NAME=$(release_field version)
  [[ $REL_NAME =~ ^[0-9A-Za-z._+-]+$ ]] || die "$BUNDLE: bad version '$REL_NAME' in RELEASE"
  local arch
  arch=$(release_field arch)
  if [ "$arch" != "$(host_arch)" ]; then
    [ "$STAGED" -eq 1 ] || die "bundle is for linux-$arch, this box is $(host_arch) / arsitektur salah"
    warn "staging a linux-$arch bundle on $(host_arch)"
  fi
  say "bundle kampung-gateway $REL_NAME (linux-$arch, commit $(release_field commit), node $(release_field node))"
}

# Moves the verified release into releases/<version> (a release of that version that is
# already there is kept if it is the same build, refused if it is another one).
install_bundle_release() {
  local rel=$ROOT$RELEASES/$REL_NAME
  prepare_app_dir
  if [ -d "$rel" ]; then
    cmp -s "$rel/SHA256SUMS" "$SRC_DIR/SHA256SUMS" ||
      die "$RELEASES/$REL_NAME exists and is another build; remove it first (not while it runs)"
    say "$RELEASES/$REL_NAME already installed (same build)"
  else
    local part=$ROOT$RELEASES/.$REL_NAME.partial
    rm -rf "$part"
    cp -R "$SRC_DIR" "$part"
    chmod -R u=rwX,go=rX "$part"
    [ "$STAGED" -eq 1 ] || chown -R root:root "$part"
    mv -T "$part" "$rel"
    say "installed $RELEASES/$REL_NAME"
  fi
  SRC_DIR=$rel
  command -v fping >/dev/null || [ -x /usr/bin/fping ] ||
    warn "fping is missing: the icmp probes need it (apt-get install fping) / fping belum terpasang"
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

# Builds the new release beside the running one, then swaps: an interrupted download or a
# failed native build leaves the installed version untouched. A source release is named
# <version>-source; its node/bin/node is a link to the node found by check_node.
install_source_release() {
  local version stamp cur
  version=$(sed -n 's/^[[:space:]]*"version":[[:space:]]*"\([^"]*\)".*/\1/p' "$SRC_DIR/package.json" | head -n1)
  REL_NAME=$version-source
  local rel=$ROOT$RELEASES/$REL_NAME
  local new=$rel.new old=$rel.old
  cur=$ROOT$APP_DIR/current
  prepare_app_dir
  rm -rf "$new" "$old"
  mkdir -p "$new/node/bin"
  cp -R "$SRC_DIR/dist" "$SRC_DIR/config" "$SRC_DIR/package.json" "$SRC_DIR/package-lock.json" "$new/"
  mkdir -p "$new/scripts"
  cp "$SRC_DIR/scripts/kampung-gw.sh" "$new/scripts/"
  if [ -d "$SRC_DIR/docs" ]; then cp -R "$SRC_DIR/docs" "$new/"; fi
  ln -s "$NODE" "$new/node/bin/node"

  # node_modules depends only on the lockfile and the node ABI (native addons): when both
  # are unchanged, hard-link the installed one instead of downloading it again over a paid
  # village link.
  stamp="$(sha256sum <"$SRC_DIR/package-lock.json" | cut -d' ' -f1) $NODE_ABI"
  if [ -d "$cur/node_modules" ] && [ -f "$cur/.deps-stamp" ] && [ "$(cat "$cur/.deps-stamp")" = "$stamp" ]; then
    say "dependencies unchanged, reusing the installed node_modules"
    cp -al "$cur/node_modules" "$new/node_modules"
  else
    say "npm ci --omit=dev in $RELEASES/$REL_NAME"
    (cd "$new" && npm ci --omit=dev --no-audit --no-fund)
  fi
  printf '%s\n' "$stamp" >"$new/.deps-stamp"

  # Root-owned and read-only for everyone else; the daemon never writes here.
  chmod -R u=rwX,go=rX "$new"
  chmod 0755 "$new/dist/main.js" "$new/scripts/kampung-gw.sh"
  [ "$STAGED" -eq 1 ] || chown -R root:root "$new"

  if [ -e "$rel" ]; then mv "$rel" "$old"; fi
  mv "$new" "$rel"
  rm -rf "$old"
  say "installed $RELEASES/$REL_NAME"
}

# /opt/kampung-gateway with releases/. A tree from an installer before releases/ (dist/ right
# in /opt/kampung-gateway) is moved aside and removed once the new release is in place.
prepare_app_dir() {
  local app=$ROOT$APP_DIR
  if [ -e "$app/dist" ] && ! [ -d "$app/releases" ]; then
    rm -rf "$app.flat"
    mv "$app" "$app.flat"
    FLAT_TREE=$app.flat
  fi
  mkdir -p "$app/releases"
  chmod 0755 "$app" "$app/releases"
}

# Points current at the new release in one rename, remembers the one before as previous, and
# removes every other release (keeps the last two: one to run, one to go back to).
switch_current() {
  local app=$ROOT$APP_DIR target=releases/$REL_NAME cur name
  cur=$(readlink "$app/current" 2>/dev/null || true)
  if [ -n "$cur" ] && [ "$cur" != "$target" ] && [ -d "$app/$cur" ]; then
    ln -sfn "$cur" "$app/previous.tmp"
    mv -T "$app/previous.tmp" "$app/previous"
  fi
  ln -sfn "$target" "$app/current.tmp"
  mv -T "$app/current.tmp" "$app/current"
  local prev
  prev=$(readlink "$app/previous" 2>/dev/null || true)
  if [ "$prev" = "$target" ]; then
    rm -f "$app/previous"
    prev=
  fi
  for name in "$app/releases"/*; do
    [ -e "$name" ] || continue
    case "releases/${name##*/}" in
      "$target" | "$prev") ;;
      *)
        say "removing old release ${name##*/}"
        rm -rf "$name"
        ;;
    esac
  done
  if [ -n "${FLAT_TREE:-}" ]; then rm -rf "$FLAT_TREE"; fi
  say "current -> $target${prev:+ (previous -> $prev)}"
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
  ln -sfn "$APP_DIR/current/scripts/kampung-gw.sh" "$ROOT$BIN_LINK"
  say "$BIN_LINK -> $APP_DIR/current/scripts/kampung-gw.sh"
}

# The unit runs current/node/bin/node, whatever the node: the ExecStart drop-in that older
# installers wrote for a node outside /usr/bin would now point at a tree that is gone.
remove_old_dropin() {
  local dir=$ROOT$UNIT_DIR/$UNIT.d
  if grep -qs 'Written by scripts/install.sh' "$dir/$OLD_DROPIN"; then
    rm -f "$dir/$OLD_DROPIN"
    rmdir "$dir" 2>/dev/null || true
    say "removed the old $UNIT_DIR/$UNIT.d/$OLD_DROPIN"
  fi
}

install_unit() {
  mkdir -p "$ROOT$UNIT_DIR"
  install -m 0644 "$SRC_DIR/systemd/$UNIT" "$ROOT$UNIT_DIR/$UNIT.tmp"
  mv "$ROOT$UNIT_DIR/$UNIT.tmp" "$ROOT$UNIT_DIR/$UNIT"
  remove_old_dropin
  local u upgrade=()
  for u in "${UPGRADE_UNITS[@]}"; do
    [ -f "$SRC_DIR/systemd/$u" ] || continue
    install -m 0644 "$SRC_DIR/systemd/$u" "$ROOT$UNIT_DIR/$u.tmp"
    mv "$ROOT$UNIT_DIR/$u.tmp" "$ROOT$UNIT_DIR/$u"
    upgrade+=("$u")
  done
  if [ "$STAGED" -eq 1 ]; then
    # What `systemctl enable` does for WantedBy=multi-user.target.
    mkdir -p "$ROOT$UNIT_DIR/multi-user.target.wants"
    ln -sfn "$UNIT_DIR/$UNIT" "$ROOT$UNIT_DIR/multi-user.target.wants/$UNIT"
    if [ "${#upgrade[@]}" -eq 2 ]; then
      ln -sfn "$UNIT_DIR/kampung-gateway-upgrade.path" "$ROOT$UNIT_DIR/multi-user.target.wants/kampung-gateway-upgrade.path"
    fi
    say "staged: $UNIT enabled (symlink), nothing started"
    return
  fi
  systemctl daemon-reload
  systemctl enable "$UNIT"
  # Watching costs nothing; it finishes an interrupted upgrade at once if there is one.
  if [ "${#upgrade[@]}" -eq 2 ]; then systemctl enable --now kampung-gateway-upgrade.path; fi
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
  if [ -n "$BUNDLE" ]; then
    verify_bundle
  else
    check_source
    check_node
  fi
  if [ "$STAGED" -eq 1 ]; then
    say "staging into $ROOT"
    [ "$START" -eq 0 ] || warn "--start ignored when staging"
  else
    [ -n "$BUNDLE" ] || install_packages
    create_user
  fi
  if [ -n "$BUNDLE" ]; then
    install_bundle_release
  else
    build_checkout
    install_source_release
  fi
  switch_current
  install_config
  install_data_dir
  install_bin_link
  install_unit
  next_steps
}

main
