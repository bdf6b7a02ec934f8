#!/usr/bin/env bash
# Checks the API for changes that would break installed apps (WIRE_JSON),
# against a git ref (default main). The ref's tree is exported with the same
# git-ignored validate.proto beside it, since buf cannot fetch it from the BSR.
set -euo pipefail
cd "$(dirname "$0")/.."
ref="${1:-main}"
buf="${BUF:-tools/node_modules/.bin/buf}"
if ! git rev-parse --verify -q "$ref^{commit}" >/dev/null; then
	echo "buf breaking: no git ref $ref; skipped"
	exit 0
fi
against=$(mktemp -d)
trap 'rm -rf "$against"' EXIT
git archive "$ref" -- api buf.yaml | tar -x -C "$against"
mkdir -p "$against/.build"
cp -r .build/protovalidate "$against/.build/"
"$buf" breaking --against "$against"
