# leadstream: run `make help` for the targets.
SHELL := /bin/bash
MODULES := proto pkg services/tracker services/scorer services/notifier services/devstack
SERVICES := tracker scorer notifier devstack
GO ?= go
TEST_FLAGS ?= -race -count=1 -timeout 15m

.PHONY: help setup build test lint tidy-check proto proto-check bench demo test-faults

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

setup: ## install redis-server, redis-cli, protoc and node if missing
	@scripts/setup.sh

build: ## build every service binary into bin/
	@mkdir -p bin
	@for s in $(SERVICES); do \
		(cd services/$$s && $(GO) build -o ../../bin/$$s ./cmd/$$s) || exit 1; \
	done

test: setup ## run every module's tests with the race detector
	@for m in $(MODULES); do \
		echo "== go test $$m"; \
		(cd $$m && $(GO) test $(TEST_FLAGS) ./...) || exit 1; \
	done
	@# The race detector allocates on its own, so the tests that hold hot
	@# paths to zero allocations skip under it and run here without it.
	@echo "== go test pkg/rules allocations (no race detector)"
	@cd pkg && $(GO) test -count=1 -run Allocations ./rules/

lint: ## gofmt, go vet and staticcheck over every module
	@out=$$(gofmt -l $(MODULES) tools); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@for m in $(MODULES); do (cd $$m && $(GO) vet ./...) || exit 1; done
	@(cd tools && $(GO) build -o ../bin/staticcheck honnef.co/go/tools/cmd/staticcheck)
	@for m in $(MODULES); do (cd $$m && $(CURDIR)/bin/staticcheck ./...) || exit 1; done

tidy-check: ## fail when any go.mod or go.sum is not tidy
	@for m in $(MODULES) tools; do \
		(cd $$m && $(GO) mod tidy) || exit 1; \
	done
	@git diff --exit-code -- '*go.mod' '*go.sum' || (echo "run go mod tidy in the modules above"; exit 1)

proto: ## regenerate the protobuf Go code
	@scripts/proto.sh

proto-check: setup proto ## fail when the committed protobuf code is stale
	@git diff --exit-code -- proto || (echo "generated code is stale: run make proto"; exit 1)

bench: ## run the benchmarks and print the summary table
	@if [ -x scripts/bench.sh ]; then scripts/bench.sh; else echo "bench: no benchmark suite yet"; exit 1; fi

test-faults: setup ## the full fault-injection suite (SEED=n to replay one seed)
	@if [ -x scripts/test-faults.sh ]; then scripts/test-faults.sh; else echo "test-faults: no fault suite yet"; exit 1; fi

demo: setup build ## run the whole pipeline on the embedded default with example traffic
	@if [ -x scripts/demo.sh ]; then scripts/demo.sh; else echo "demo: devstack is not built yet"; exit 1; fi
