#!/usr/bin/env bash
# bench-size.sh: the size of what Lambda runs. Builds every function's bootstrap as
# `sam build` does (linux/arm64, CGO_ENABLED=0, the Makefile's GOFLAGS_LAMBDA), and the
# hello-world aws-lambda-go function (internal/benchdata/hello) the same way, zips each
# alone, and prints one row per binary: bootstrap bytes, zip bytes, each as a ratio to
# hello's, whether X-Ray is linked in, and the zip against the goal (5 MiB).
#
#   bash scripts/bench-size.sh            # a markdown table
#   bash scripts/bench-size.sh --tsv      # name, bootstrap, zip, ratios, xray, ok: for scripts
set -euo pipefail
cd "$(dirname "$0")/.."

format=md
[[ "${1:-}" == "--tsv" ]] && format=tsv

FUNCTIONS=(read ingest worker stream authorizer)
GOAL_ZIP=$((5 * 1024 * 1024))
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

build() { # name package
	mkdir -p "$out/$1"
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -tags lambda.norpc -trimpath -ldflags='-s -w' \
		-buildvcs=false -o "$out/$1/bootstrap" "$2"
	# What sam package uploads: the bootstrap alone, deflated at zlib's default level (6),
	# as Python's zipfile does for SAM.
	(cd "$out/$1" && zip -q -X -6 "$1.zip" bootstrap)
}

build hello ./internal/benchdata/hello
for f in "${FUNCTIONS[@]}"; do
	build "$f" "./functions/$f"
done

size() { stat -c %s "$1"; }
hello_bin=$(size "$out/hello/bootstrap")
hello_zip=$(size "$out/hello/hello.zip")

if [[ $format == md ]]; then
	echo "| binary | bootstrap bytes | zip bytes | bootstrap × hello | zip × hello | X-Ray linked | zip ≤ 5 MiB |"
	echo "|---|---:|---:|---:|---:|---|---|"
fi
for f in hello "${FUNCTIONS[@]}"; do
	bin=$(size "$out/$f/bootstrap")
	zip=$(size "$out/$f/$f.zip")
	xray=no
	go version -m "$out/$f/bootstrap" | grep -q 'aws-xray-sdk-go' && xray=yes
	ok=yes
	((zip <= GOAL_ZIP)) || ok=no
	rb=$(awk -v a="$bin" -v b="$hello_bin" 'BEGIN { printf "%.2f", a / b }')
	rz=$(awk -v a="$zip" -v b="$hello_zip" 'BEGIN { printf "%.2f", a / b }')
	if [[ $format == md ]]; then
		echo "| $f | $bin | $zip | ${rb}× | ${rz}× | $xray | $ok |"
	else
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$f" "$bin" "$zip" "$rb" "$rz" "$xray" "$ok"
	fi
done
