#!/usr/bin/env bash
# npm test: every tier, from a fresh clone. Installs what the tiers need (Debian packages as root,
# the cached code-server), builds, type-checks, lints, then runs unit, integration and e2e tests.
# Every step runs even when an earlier one failed (except what cannot run without the install or
# the build); each prints its summary, and the last line sums all of them:
#   N passed, N failed, N skipped
# The build, each type-check, the lint and the formatting check count as one check each. Exit code 0 only if nothing failed.
#
# Knobs: HAILO_TEST_TIERS="unit integration e2e" (a subset), HAILO_TEST_GREP (integration/e2e).
#
# The run starts from a plain shell's environment: under `npm test` the parent npm exports its own
# npm_config_* values (user agent naming its Node, prefix, cache, node-gyp, ...), which nested npm
# and install scripts would otherwise take as the user's (test/setup/lib.sh).
#
# With CI=true the install is cold on every run: code-server, Node 24 and playwright-core go into a
# fresh cache folder created for this run, from a fresh npm cache, so a warm cache can never hide an
# install bug. The summary prints how long that install took. (Set HAILO_TEST_CACHE to reuse one.)
set -uo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=setup/lib.sh
source test/setup/lib.sh
hailo_clean_npm_env

TIERS="${HAILO_TEST_TIERS:-unit integration e2e}"
passed=0 failed=0 skipped=0
summary=()
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
t_all=$SECONDS

banner() { printf '\n\033[1m=== %s\033[0m\n' "$*"; }
# record NAME P F S
record() {
  passed=$((passed + $2)) failed=$((failed + $3)) skipped=$((skipped + $4))
  summary+=("$(printf '%-12s %4d passed, %d failed, %d skipped  (%d s)' "$1" "$2" "$3" "$4" "$5")")
}
# check NAME CMD...: a gate that counts as one check
check() {
  local name=$1 t0=$SECONDS
  shift
  banner "$name"
  if "$@"; then record "$name" 1 0 0 $((SECONDS - t0)); return 0; fi
  record "$name" 0 1 0 $((SECONDS - t0))
  return 1
}
# mocha_tier NAME CONFIG [SPEC]: runs mocha, reads its "N passing / N failing / N pending" epilogue
mocha_tier() {
  local name=$1 config=$2 spec=${3:-} t0=$SECONDS out="$tmp/$1.log"
  banner "$name"
  npx mocha --config "$config" ${HAILO_TEST_GREP:+--grep "$HAILO_TEST_GREP"} ${spec:+"$spec"} 2>&1 | tee "$out"
  local rc=${PIPESTATUS[0]}
  local p f s
  p=$(sed -nE 's/^ *([0-9]+) passing.*/\1/p' "$out" | tail -1)
  f=$(sed -nE 's/^ *([0-9]+) failing.*/\1/p' "$out" | tail -1)
  s=$(sed -nE 's/^ *([0-9]+) pending.*/\1/p' "$out" | tail -1)
  p=${p:-0} f=${f:-0} s=${s:-0}
  # mocha failed without reporting a failing test (a file did not load): count it
  if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi
  record "$name" "$p" "$f" "$s" $((SECONDS - t0))
}

installed=1 built=1
cold=""
if [ "${CI:-}" = true ] && [ -z "${HAILO_TEST_CACHE:-}" ]; then
  export HAILO_TEST_CACHE="$tmp/test-cache" HAILO_TEST_NPM_CACHE="$tmp/npm-cache"
  mkdir -p "$HAILO_TEST_CACHE" "$HAILO_TEST_NPM_CACHE"
  cold=" (cold: fresh cache $HAILO_TEST_CACHE and npm cache)"
fi
t_install=$SECONDS
check install bash test/setup/install.sh || installed=0
install_line="install took $((SECONDS - t_install)) s$cold"
echo "$install_line"
check build npm run --silent build || built=0
check tsc npx tsc --noEmit -p .
check tsc-webview npx tsc --noEmit -p webview
check eslint npx eslint .
check format npm run -s format:check

case " $TIERS " in *" unit "*) mocha_tier unit .mocharc.json ;; esac

case " $TIERS " in *" integration "*)
  if [ $installed = 1 ] && [ $built = 1 ]; then
    banner integration
    t0=$SECONDS
    node --import tsx test/harness/integration.ts ${HAILO_TEST_GREP:+--grep "$HAILO_TEST_GREP"} 2>&1 | tee "$tmp/integration.log"
    rc=${PIPESTATUS[0]}
    line=$(grep -E '^integration: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$tmp/integration.log" | tail -1)
    read -r p f s < <(sed -E 's/^integration: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped$/\1 \2 \3/' <<<"${line:-integration: 0 passed, 0 failed, 0 skipped}")
    if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi
    record integration "$p" "$f" "$s" $((SECONDS - t0))
  else
    banner integration
    echo "integration: cannot run without the install and the build"
    record integration 0 1 0 0
  fi
;; esac

case " $TIERS " in *" e2e "*)
  if [ $installed = 1 ] && [ $built = 1 ]; then
    mocha_tier e2e test/harness/mocharc.e2e.json 'test/e2e/**/*.e2e.test.ts'
  else
    banner e2e
    echo "e2e: cannot run without the install and the build"
    record e2e 0 1 0 0
  fi
;; esac

banner "summary ($((SECONDS - t_all)) s)"
printf '%s\n' "${summary[@]}"
echo "$install_line"
echo
if ((skipped)); then echo "$passed passed, $failed failed, $skipped skipped"; else echo "$passed passed, $failed failed"; fi
((failed == 0))
