#!/usr/bin/env bash
# Copies buf/validate/validate.proto from the Go module cache into .build/ so
# buf can resolve it without the BSR. The version is the one the protovalidate
# runtime in go.mod was built against.
set -euo pipefail
cd "$(dirname "$0")/.."
version="${PROTOVALIDATE_PROTO_VERSION:-v1.2.2}"
dir=$(go mod download -json "github.com/bufbuild/protovalidate@${version}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
dest=.build/protovalidate/buf/validate
mkdir -p "$dest"
install -m 0644 "$dir/proto/protovalidate/buf/validate/validate.proto" "$dest/validate.proto"
