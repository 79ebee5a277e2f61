#!/usr/bin/env bash
# `npm ci` from the lockfile, checked to print no npm warning (e.g. "Unknown project config" for a .npmrc key npm
# does not know) and to need no environment variable: ONNXRUNTIME_NODE_INSTALL is unset on purpose, the repo's
# .npmrc (ignore-scripts=true) alone must keep onnxruntime-node's CUDA download from running.
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
env -u ONNXRUNTIME_NODE_INSTALL npm ci --no-audit --no-fund 2> >(tee "$log" >&2)
if grep -qi '^npm warn' "$log"; then
  echo "npm ci printed warnings (see above); fix the cause (.npmrc keys, deprecated packages)" >&2
  exit 1
fi
node -e "require('onnxruntime-node'); require('usearch')" 2>/dev/null || node --input-type=module -e "await import('onnxruntime-node'); await import('usearch')"
echo "npm ci: no warnings; onnxruntime-node and usearch load"
