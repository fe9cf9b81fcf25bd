#!/usr/bin/env bash
# lint-template: checks the SAM template and the API document, and fails on any error or
# warning.
#
#   sam validate --lint   SAM's own schema and transform, then cfn-lint on the result
#   cfn-lint              every rule on template.yaml as written (cfn-lint exits non-zero
#                         on warnings too)
#   cfn-lint, inlined     the template with api/openapi.yaml inlined into DefinitionBody and
#                         SAM-transformed (scripts/inline-openapi.py), once with dev's and
#                         once with prod's samconfig.toml parameter_overrides: cfn-lint
#                         cannot follow AWS::Include, so only this checks the document's
#                         intrinsic functions
#   go test (api)         the rules API Gateway enforces only at deploy: cache keys are
#                         declared parameters, everything targets the alias live, each
#                         method has the security it should (api/gateway_test.go)
#   checkov               checkov's CloudFormation checks on template.yaml; a finding is
#                         either fixed or skipped in the template with
#                         `# checkov:skip=<ID>:<reason>`, and a skip without a reason fails
#   sam build             builds the six functions for linux/arm64 into .aws-sam/ with
#                         the Makefile's build-<Function> targets (needs Go)
#
# The tools come from PATH: `make lint-template` puts .tools/venv/bin first. Settings
# (region, build_in_source, ...) come from samconfig.toml. Notes: docs/template.md.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export SAM_CLI_TELEMETRY=0

for tool in sam cfn-lint go make; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "lint-template: $tool is not on PATH (make tools installs sam and cfn-lint)" >&2
		exit 1
	fi
done

echo "lint-template: sam $(sam --version | awk '{print $NF}'), cfn-lint $(cfn-lint --version | awk '{print $NF}')"

echo "lint-template: sam validate --lint"
sam validate --lint --template-file template.yaml

echo "lint-template: cfn-lint"
cfn-lint -- template.yaml

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python=${USERSAPI_TOOLS:-.tools}/venv/bin/python
checkov=${USERSAPI_TOOLS:-.tools}/checkov/bin/checkov
for f in "$python" "$checkov"; do
	[[ -x $f ]] || { echo "lint-template: $f not found (make tools installs it)" >&2; exit 1; }
done

for env in default prod; do
	echo "lint-template: cfn-lint, api/openapi.yaml inlined, samconfig.toml [$env]"
	if ! "$python" scripts/inline-openapi.py --env "$env" --parameters-out "$tmp/$env-parameters.json" \
		template.yaml >"$tmp/$env.json" 2>"$tmp/$env.log"; then
		grep -v "Feature Toggle" "$tmp/$env.log" >&2
		exit 1
	fi
	cfn-lint --parameter-files "$tmp/$env-parameters.json" -- "$tmp/$env.json"
done

echo "lint-template: go test ./api/ (API Gateway's rules on the document and the template)"
go test -count=1 -run '^(TestCacheKeysAreDeclared|TestEverythingTargetsLive|TestSecurity)$' ./api/

echo "lint-template: checkov $("$checkov" --version)"
if grep -nE 'checkov:skip=[A-Z0-9_]+ *(:[[:space:]]*)?$' template.yaml; then
	echo "lint-template: a checkov skip above gives no reason (checkov:skip=<ID>:<reason>)" >&2
	exit 1
fi
# --skip-download: no call to Prisma Cloud for guidelines; --quiet lists only failures.
"$checkov" --file template.yaml --framework cloudformation --skip-download --quiet --compact

echo "lint-template: sam build"
sam build --template-file template.yaml

echo "lint-template: ok"
