# Nära — the front door. `make help` lists every target.
SHELL := /bin/bash
.DEFAULT_GOAL := help

GO            ?= go
TOOLS_BIN     := $(CURDIR)/tools/node_modules/.bin
BUF           := $(TOOLS_BIN)/buf
GOLANGCI_LINT_VERSION := v2.15.0
GOBIN         ?= $(shell $(GO) env GOPATH)/bin
GOLANGCI_LINT := $(GOBIN)/golangci-lint
# buf breaking compares the API with this git ref (installed apps keep old builds).
BREAKING_AGAINST ?= main
NARA_ADDR     ?= 127.0.0.1:8080

.PHONY: help
help: ## List every target with what it does.
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[1m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: deps
deps: ## Install the OS packages the server and tests need (PostgreSQL, Chromium for the web page test; Debian/Ubuntu).
	./scripts/install-deps.sh --chromium

# npm ci installs exactly what the lock file pins and never rewrites it. The
# lock lists buf's binary package for every platform npm knows (npm install
# writes them all); each machine fetches only its own.
$(BUF): tools/package.json tools/package-lock.json
	cd tools && npm ci --no-audit --no-fund
	@touch $(BUF)

.PHONY: tools
tools: $(BUF) ## Install the pinned code-generation tools (buf, protoc-gen-es).

.PHONY: generate
generate: $(BUF) ## Regenerate gen/ and the SDKs from api/ (needs Node, Java/Maven and Python too).
	./scripts/protovalidate-proto.sh
	$(BUF) generate
	$(BUF) format -w
	$(MAKE) --no-print-directory sdk-generate

.PHONY: checkgenerate
checkgenerate: generate ## Fail if generated code is not what `make generate` writes.
	@if [ -n "$$(git status --porcelain -- gen sdk api)" ]; then \
		echo "generated code is stale; run make generate and commit:"; \
		git status --porcelain -- gen sdk api; git --no-pager diff --stat -- gen sdk api; exit 1; fi

$(GOLANGCI_LINT):
	GOFLAGS=-buildvcs=false $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

.PHONY: lint
lint: $(BUF) $(GOLANGCI_LINT) ## go vet, go mod tidy -diff, golangci-lint, govulncheck, buf lint, buf format and buf breaking.
	./scripts/protovalidate-proto.sh
	$(GO) vet ./...
	$(GO) mod tidy -diff
	./scripts/vulncheck.sh
	$(GOLANGCI_LINT) run ./...
	$(BUF) lint
	$(BUF) format --diff --exit-code
	BUF=$(BUF) ./scripts/buf-breaking.sh $(BREAKING_AGAINST)

.PHONY: test
test: test-go sdk-test ## Run every test: Go against a real PostgreSQL, then every SDK against a live server.

.PHONY: test-go
# buf first: the README walkthrough (walkthrough/) runs its buf curl lines.
test-go: $(BUF) ## Run the Go tests (each against its own real PostgreSQL database, and the README's Try it walkthrough).
	./scripts/install-deps.sh --check
	$(GO) test -count=1 ./...

.PHONY: vulncheck
vulncheck: ## govulncheck ./... against the pinned vulnerability database: fails on a reachable vulnerability in a module.
	./scripts/vulncheck.sh

# Each fuzz target with the package it lives in; `make fuzz` runs every one
# for FUZZTIME on top of its corpus (testdata/fuzz and its f.Add seeds).
# FUZZTIME is a count of executions ("Nx"), not a duration: with a duration,
# Go 1.26's fuzz coordinator can report its own deadline as a failure
# ("context deadline exceeded", go.dev/issue/75804) with nothing found.
FUZZ_TARGETS := \
	./identity/pnr:FuzzParse ./identity/pnr:FuzzParseOnAnyDay ./identity/pnr:FuzzParseDigits \
	./ical:FuzzRenderCalendar \
	./identity/bankid:FuzzQRCode ./identity/bankid:FuzzScanQR ./identity/bankid:FuzzCollectResponse \
	./server:FuzzJSONCodec \
	./mail:FuzzParse ./attachment:FuzzInspect
FUZZTIME ?= 60000x

.PHONY: fuzz
fuzz: ## Run each fuzz target for FUZZTIME executions (default 60000x) after its corpus; a crasher is written to the package's testdata/fuzz.
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "fuzz $${t%%:*} $${t##*:}"; \
		$(GO) test -run '^$$' -fuzz "^$${t##*:}$$" -fuzztime $(FUZZTIME) "$${t%%:*}"; \
	done

.PHONY: run
# Built, then exec'd rather than `go run`: go run exits 1 after its program
# stops cleanly on Ctrl-C, and make would report that as an error.
run: ## Run the server with an embedded PostgreSQL and demo data on NARA_ADDR (default 127.0.0.1:8080).
	./scripts/install-deps.sh
	@echo "Building bin/nara; the first build downloads and compiles the Go modules, which takes a few minutes."
	$(GO) build -o bin/nara ./cmd/nara
	exec ./bin/nara serve --demo --addr $(NARA_ADDR)

.PHONY: build
build: ## Build bin/nara.
	$(GO) build -o bin/nara ./cmd/nara

.PHONY: bench
bench: ## Run every benchmark under bench/ and write figures to bench/results/.
	./bench/run.sh

# The client SDKs' own targets (sdk-*) live beside them.
-include sdk/sdk.mk
