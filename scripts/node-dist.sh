#!/usr/bin/env bash
# Installs an official Node.js build from the npm registry (the node-linux-<arch> packages carry the
# nodejs.org binaries) into the cache, and prints its bin directory.
#
#   PATH="$(bash scripts/node-dist.sh 26.12.1):$PATH"   # a version
#   PATH="$(bash scripts/node-dist.sh):$PATH"           # the version in .nvmrc
#
# Cache: ${DRIFTSTREAM_CACHE_DIR:-~/.cache/driftstream}/node/<version>; a second run downloads nothing.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="${1:-$(tr -d ' \n\r' < "$root/.nvmrc")}"
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "node-dist: no Node.js build for $(uname -m)" >&2; exit 2 ;;
esac
dir="${DRIFTSTREAM_CACHE_DIR:-$HOME/.cache/driftstream}/node/$version"
if [ ! -x "$dir/bin/node" ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  echo "node-dist: downloading node-linux-$arch@$version" >&2
  (cd "$tmp" && npm pack --silent "node-linux-$arch@$version" >/dev/null)
  mkdir -p "$dir.partial"
  tar -xzf "$tmp"/node-linux-"$arch"-*.tgz -C "$dir.partial" --strip-components=1
  "$dir.partial/bin/node" --version >/dev/null
  rm -rf "$dir" && mv "$dir.partial" "$dir"
fi
echo "$dir/bin"
