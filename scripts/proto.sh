#!/usr/bin/env bash
# proto.sh regenerates the Go code for proto/leadstream/v1 with the
# protoc-gen-go version pinned in tools/go.mod.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bin
(cd tools && go build -o ../bin/protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go)
cd proto
protoc --plugin=protoc-gen-go=../bin/protoc-gen-go --go_out=. --go_opt=paths=source_relative \
  -I . leadstream/v1/*.proto
