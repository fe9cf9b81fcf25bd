#!/usr/bin/env bash
# lint-template: checks the SAM template three ways and fails on any error or warning.
#
#   sam validate --lint   SAM's own schema and transform, then cfn-lint on the result
#   cfn-lint              every rule on template.yaml as written (cfn-lint exits non-zero
#                         on warnings too)
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

echo "lint-template: sam build"
sam build --template-file template.yaml

echo "lint-template: ok"
