#!/usr/bin/env bash
# Installs what the test tiers need. Idempotent; quick when everything is there.
set -euo pipefail
echo "[install] nothing extra needed yet"
