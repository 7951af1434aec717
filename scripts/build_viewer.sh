#!/usr/bin/env bash
# Build the <cxr-viewer> bundle (static/src/viewer -> static/js/cxr-viewer.js).
#   scripts/build_viewer.sh           install from the lockfile (npm ci) and rebuild the bundle
#   scripts/build_viewer.sh --check   rebuild into a temp file; fail if the committed bundle differs
# Set VIEWER_SKIP_NPM_CI=1 to reuse an existing node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."

out=static/js/cxr-viewer.js
check=0
case "${1:-}" in
  --check) check=1 ;;
  "") ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

if [[ "${VIEWER_SKIP_NPM_CI:-0}" != 1 || ! -x node_modules/.bin/esbuild ]]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
node_modules/.bin/esbuild static/src/viewer/index.js \
  --bundle --minify --format=iife --target=es2020 --charset=utf8 \
  --legal-comments=eof --log-level=warning \
  --banner:js="/* RadGame <cxr-viewer> bundle, built from static/src/viewer/ by scripts/build_viewer.sh (esbuild; do not edit) */" \
  --outfile="$tmp"

if (( check )); then
  if cmp -s "$tmp" "$out"; then
    echo "ok: $out matches static/src/viewer"
  else
    echo "error: $out is stale or hand-edited; run scripts/build_viewer.sh and commit it" >&2
    exit 1
  fi
else
  cp "$tmp" "$out"
  raw=$(wc -c <"$out")
  gz=$(gzip -9c "$out" | wc -c)
  echo "built $out: $raw bytes, $gz gzip"
fi
