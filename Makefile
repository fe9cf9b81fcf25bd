# usersapi: the targets a developer and CI use. `make run` and `make test` are the two
# that a new user needs; both install what they need into .tools/ first.
SHELL := /bin/bash
TOOLS := $(CURDIR)/.tools
export PATH := $(TOOLS)/bin:$(TOOLS)/venv/bin:$(TOOLS)/node/node_modules/.bin:$(PATH)
export SAM_CLI_TELEMETRY := 0
export REDOCLY_TELEMETRY := off
export REDOCLY_SUPPRESS_UPDATE_NOTICE := true
export USERSAPI_TOOLS := $(TOOLS)

FUNCTIONS := read ingest worker stream authorizer docs
GOFLAGS_LAMBDA := -tags lambda.norpc -trimpath -ldflags='-s -w' -buildvcs=false

.PHONY: all tools build docs-assets lambda test unit lint lint-go lint-api lint-template run invoke fuzz bench clean chaos

all: build

## tools: install the emulators, SAM CLI and cfn-lint into .tools/ (idempotent).
tools:
	@bash scripts/install-tools.sh

# Swagger UI's files, which functions/docs embeds (//go:embed assets), from the npm package
# swagger-ui-dist that `make tools` installs (tools/package.json pins it).
SWAGGER_UI := $(TOOLS)/node/node_modules/swagger-ui-dist
DOCS_ASSETS := swagger-ui-bundle.js swagger-ui.css LICENSE NOTICE

## docs-assets: copy Swagger UI's files into functions/docs/assets/ (gitignored); it stops
## and asks for `make tools` when they are not installed. (`go build ./functions/docs`
## alone builds without them, and that binary answers GET /docs with 503.)
docs-assets:
	@test -e $(SWAGGER_UI)/swagger-ui-bundle.js || { echo "docs-assets: no swagger-ui-dist in $(SWAGGER_UI): run make tools" >&2; exit 1; }
	@cp $(addprefix $(SWAGGER_UI)/,$(DOCS_ASSETS)) functions/docs/assets/

## build: host binaries of every function (bin/<name>/bootstrap), for the local cloud.
build: docs-assets
	@for f in $(FUNCTIONS); do \
	  CGO_ENABLED=0 go build $(GOFLAGS_LAMBDA) -o bin/$$f/bootstrap ./functions/$$f || exit 1; \
	done

## lambda: what AWS runs: `sam build` (linux/arm64, stripped, -tags lambda.norpc).
lambda: tools
	sam build

# docs-assets-if-installed: the same copy when `make tools` has run, and a note when it has
# not. `sam build` in a fresh clone must work (a SAM user runs it first): the docs function
# then builds without Swagger UI's files and answers GET /docs with 503 (its README says
# so); /openapi.json is served either way. Run `make tools` and build again for the page.
.PHONY: docs-assets-if-installed
docs-assets-if-installed:
	@if test -e $(SWAGGER_UI)/swagger-ui-bundle.js; then \
	  cp $(addprefix $(SWAGGER_UI)/,$(DOCS_ASSETS)) functions/docs/assets/; \
	else \
	  echo "build-DocsFunction: no swagger-ui-dist in $(SWAGGER_UI); GET /docs will answer 503 (make tools, then build again, for the page)" >&2; \
	fi

# sam build (BuildMethod: makefile) calls build-<LogicalId> with ARTIFACTS_DIR set.
build-DocsFunction: docs-assets-if-installed
build-ReadFunction build-IngestFunction build-WorkerFunction build-StreamFunction build-AuthorizerFunction build-DocsFunction:
	$(eval fn := $(shell echo $(@:build-%Function=%) | tr A-Z a-z))
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build $(GOFLAGS_LAMBDA) -o $(ARTIFACTS_DIR)/bootstrap ./functions/$(fn)

## test: every test: vet, unit, integration against the emulators, the template.
test: tools build
	go vet ./...
	go test -race -count=1 ./...
	@$(MAKE) --no-print-directory lint-template

lint-template: tools
	@bash scripts/lint-template.sh

## lint: every static check: go vet, golangci-lint (.golangci.yml; installed into .tools/bin
## on first use), the template (lint-template) and the API document (lint-api).
lint: tools lint-go lint-template lint-api

lint-go:
	@bash scripts/install-tools.sh golangci-lint >/dev/null
	go vet ./...
	golangci-lint run ./...

## lint-api: Redocly CLI's recommended rules on api/openapi.yaml (redocly.yaml); fails on
## errors, lists warnings. Then AsyncAPI CLI validates api/asyncapi.yaml (the change events,
## which refer to openapi.yaml's schemas) and its governance rules; fails on a warning. Its
## usage analytics are off: the CLI reads them from the file it is pointed at.
lint-api: tools
	redocly lint --format=stylish api/openapi.yaml
	@mkdir -p $(TOOLS)/asyncapi && echo '{"analyticsEnabled":"false","infoMessageShown":"true","userID":"usersapi"}' > $(TOOLS)/asyncapi/analytics.json
	ASYNCAPI_METRICS_CONFIG_PATH=$(TOOLS)/asyncapi/analytics.json SUPPRESS_NO_CONFIG_WARNING=1 \
	  asyncapi validate --fail-severity=warn api/asyncapi.yaml

## run: the whole pipeline on this machine (see README). ARGS="--data .data" keeps data between runs.
run: tools build
	@go build -o bin/usersapi-local ./cmd/usersapi-local
	@exec bin/usersapi-local run $(ARGS)

## invoke: one function once on a sample event, like sam local invoke:
##   make invoke FN=ReadFunction EVENT=events/get-user.json
invoke: tools build
	@go build -o bin/usersapi-local ./cmd/usersapi-local
	@bin/usersapi-local invoke $(FN) -e $(EVENT)

## chaos: the full load-and-chaos run (10,000 writes; a smaller one is part of make test).
## The whole output goes to .tools/logs/chaos.log; the summary and any failure are printed.
chaos: tools build
	@mkdir -p .tools/logs; echo "make chaos: about 30 minutes here; the whole output goes to .tools/logs/chaos.log"
	@USERSAPI_CHAOS=full go test -count=1 -timeout 90m -run '^TestChaos$$' -v ./internal/localcloud/ > .tools/logs/chaos.log 2>&1; \
	  status=$$?; grep -v '^\s*\[' .tools/logs/chaos.log | grep -A12 -E 'chaos_test.go|^(--- |FAIL|ok |panic)' | head -80; exit $$status

## fuzz: a short run of every fuzz target (their seed corpora run in every `make test`).
## FUZZTIME is a count of inputs, not a duration: with a duration, Go 1.26's fuzz
## coordinator can fail a target with "context deadline exceeded" as time runs out
## (go.dev/issue/75804, fixed in Go 1.27); a count has no deadline to race.
FUZZTIME ?= 100000x
fuzz:
	@for t in ./shared/users:FuzzDecodeInput ./shared/users:FuzzDecodePatch ./shared/signed:FuzzOpen \
	          ./shared/dynamo:FuzzStartKey ./functions/authorizer:FuzzParse ./shared/queue/envelope:FuzzDecode \
	          ./shared/users:FuzzValidID; do \
	  pkg=$${t%%:*}; fn=$${t##*:}; echo "fuzz $$fn ($$pkg, $(FUZZTIME))"; \
	  go test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	done

## bench: every figure against its baseline, one table (about 3 min on 2 cores).
bench: tools build
	@bash scripts/bench.sh

clean:
	rm -rf bin .aws-sam
