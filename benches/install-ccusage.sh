#!/usr/bin/env bash
# Installs the peer the ingest benchmark compares against: ccusage 20.0.24 and its native linux-x64 binary,
# from the npm registry, into target/ccusage (nothing global). Needs node and npm.
set -euo pipefail
cd "$(dirname "$0")/.."
npm install --silent --no-audit --no-fund --prefix target/ccusage ccusage@20.0.24 @ccusage/ccusage-linux-x64@20.0.24
chmod +x target/ccusage/node_modules/@ccusage/ccusage-linux-x64/bin/ccusage
target/ccusage/node_modules/@ccusage/ccusage-linux-x64/bin/ccusage --version
