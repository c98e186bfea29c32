#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# check_layers_test.sh - scripts/check-layers passes on the tree and fails,
# naming the file and line, on a copy with one include planted that runs up
# the layers (util including app) and on a source outside a layer folder.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$repo/scripts/check-layers" "$repo" >/dev/null
cp -r "$repo/src" "$repo/include" "$tmp/"
printf '#include "qpurge/app/config.h"\n' >>"$tmp/src/util/escape.cc"
line=$(wc -l <"$tmp/src/util/escape.cc")
if out=$("$repo/scripts/check-layers" "$tmp" 2>&1); then
  echo "FAIL: an upward include passed the check"; exit 1
fi
want="src/util/escape.cc:$line: util includes app, a layer above it: #include \"qpurge/app/config.h\""
grep -qxF "$want" <<<"$out" || { echo "FAIL: expected '$want', got: $out"; exit 1; }
rm -r "$tmp/src" && cp -r "$repo/src" "$tmp/" && touch "$tmp/src/stray.cc"
if out=$("$repo/scripts/check-layers" "$tmp" 2>&1); then
  echo "FAIL: a source outside the layer folders passed the check"; exit 1
fi
grep -q "^src/stray.cc: not in a layer folder" <<<"$out" || { echo "FAIL: got: $out"; exit 1; }
echo "ok: check-layers passes the tree and fails on an upward include and a stray source"
