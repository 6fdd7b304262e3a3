//go:build tools

// Package tools pins the versions of the development tools that the
// Makefile runs with "go run", so every machine uses the same ones.
package tools

import (
	_ "google.golang.org/protobuf/cmd/protoc-gen-go"
	_ "honnef.co/go/tools/cmd/staticcheck"
)
