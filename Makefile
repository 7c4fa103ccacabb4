# Vow — common tasks. `make` (or `make help`) lists them.

GO       ?= go
FUZZTIME ?= 1m
ARGS     ?=

.DEFAULT_GOAL := help
.PHONY: help test build demo fuzz vet

help: ## Show this list of targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-7s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo
	@echo "  Variables: ARGS=\"-run X ./pkg\" (make test), FUZZTIME=$(FUZZTIME) (make fuzz)"

test: ## Vet, test (real PostgreSQL + MariaDB, started privately if absent) and fuzz the policy parser briefly (scripts/test.sh)
	scripts/test.sh $(ARGS)

build: ## Build the vow binary into ./vow (static: Vow needs no cgo)
	CGO_ENABLED=0 $(GO) build -o vow ./cmd/vow

demo: ## Run the built-in demo (go run ./cmd/vow demo)
	$(GO) run ./cmd/vow demo

fuzz: ## Run every fuzz target for FUZZTIME each (scripts/fuzz.sh)
	VOW_FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

vet: ## Run go vet on all packages
	$(GO) vet ./...
