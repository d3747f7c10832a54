#!/usr/bin/env bash
# npm test: every tier, from a fresh clone. Installs what the tiers need (Debian packages as root,
# the cached code-server), builds, type-checks, lints, then runs unit, integration and e2e tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash test/setup/install.sh
npm run --silent build
npx tsc --noEmit -p .
npx tsc --noEmit -p webview
npx eslint .
npx mocha --config .mocharc.json
