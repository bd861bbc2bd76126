#!/usr/bin/env bash
# Installs ddcl's dependencies on a fresh Debian/Ubuntu machine: the system libraries the
# Confluent Kafka client links against, then `npm ci` (which also builds the TypeScript).
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  if ! dpkg -s libzstd-dev libsasl2-dev libcurl4-openssl-dev >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libzstd-dev libsasl2-dev libcurl4-openssl-dev >/dev/null
  fi
fi

# Build librdkafka from source instead of downloading a prebuilt binary.
export CKJS_LINKING=dynamic
# node-gyp needs Node's headers; point it at the installed ones when npm does not know them.
if [ -z "${npm_config_nodedir:-}" ] && [ "$(npm config get nodedir 2>/dev/null)" = "undefined" -o -z "$(npm config get nodedir 2>/dev/null)" ]; then
  prefix="$(dirname "$(dirname "$(command -v node)")")"
  for p in "$prefix" /usr /usr/local; do
    if [ -f "$p/include/node/node.h" ]; then export npm_config_nodedir="$p"; break; fi
  done
fi

npm ci --no-audit --no-fund
