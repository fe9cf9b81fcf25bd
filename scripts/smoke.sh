#!/usr/bin/env bash
# smoke: a smoke run of a deployed stage, or of `make run` with the same steps.
#
#   scripts/smoke.sh --stack usersapi-dev [--region eu-west-1]
#       reads the stack's outputs (ApiUrl, TokenUrl, UserPoolId, DevApiKeyId), gets an
#       access token from the Cognito app client with client credentials, and the API key's
#       value (or give --api-key KEY for a stage without the development key, as prod).
#       Needs the AWS CLI with credentials, curl and jq.
#   scripts/smoke.sh --url http://127.0.0.1:3000/dev --api-key KEY --token TOKEN
#       any stage whose URL, key and token you have: `make run` prints the key, and
#       `bin/usersapi-local token --sub smoke --scope "users.read users.write"` signs a token.
#
# It creates a user, reads it, patches it with If-Match, deletes it, and follows each write's
# request to its end (GET /requests/{id} until succeeded). Any surprise (a status, a header,
# a field, a request that fails or does not settle within --wait seconds) prints what was
# expected and what came, and exits 1. Nothing is left behind: the user it made is deleted.
set -euo pipefail

usage() {
	sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	exit 2
}

stack="" region="" url="" key="" token="" wait=60
while (($#)); do
	case $1 in
	--stack) stack=$2; shift 2 ;;
	--region) region=$2; shift 2 ;;
	--url) url=${2%/}; shift 2 ;;
	--api-key) key=$2; shift 2 ;;
	--token) token=$2; shift 2 ;;
	--wait) wait=$2; shift 2 ;;
	-h | --help) usage ;;
	*) echo "smoke: unknown argument $1" >&2; usage ;;
	esac
done

for tool in curl jq; do
	command -v "$tool" >/dev/null || { echo "smoke: $tool is not installed" >&2; exit 1; }
done

step() { printf 'smoke: %s\n' "$*"; }
fail() {
	printf 'smoke: FAIL: %s\n' "$*" >&2
	exit 1
}

if [[ -n $stack ]]; then
	command -v aws >/dev/null || fail "--stack needs the AWS CLI"
	awsr=(aws)
	[[ -z $region ]] || awsr+=(--region "$region")
	output() {
		"${awsr[@]}" cloudformation describe-stacks --stack-name "$stack" \
			--query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
	}
	url=${url:-$(output ApiUrl)}
	[[ -n $url && $url != None ]] || fail "stack $stack has no ApiUrl output"
	if [[ -z $key ]]; then
		key_id=$(output DevApiKeyId)
		[[ -n $key_id && $key_id != None ]] || fail "stack $stack has no development API key (prod): give --api-key"
		key=$("${awsr[@]}" apigateway get-api-key --api-key "$key_id" --include-value --query value --output text)
	fi
	if [[ -z $token ]]; then
		pool=$(output UserPoolId)
		token_url=$(output TokenUrl)
		client=$("${awsr[@]}" cognito-idp list-user-pool-clients --user-pool-id "$pool" \
			--query 'UserPoolClients[0].ClientId' --output text)
		secret=$("${awsr[@]}" cognito-idp describe-user-pool-client --user-pool-id "$pool" \
			--client-id "$client" --query 'UserPoolClient.ClientSecret' --output text)
		token=$(curl -sS --fail-with-body -u "$client:$secret" \
			-d grant_type=client_credentials -d 'scope=usersapi/users.read usersapi/users.write' \
			"$token_url" | jq -r .access_token)
		[[ -n $token && $token != null ]] || fail "no access token from $token_url"
	fi
fi
[[ -n $url && -n $key && -n $token ]] || { echo "smoke: give --stack, or --url, --api-key and --token" >&2; usage; }

body=$(mktemp) headers=$(mktemp)
trap 'rm -f "$body" "$headers"' EXIT

# call METHOD PATH [EXTRA-CURL-ARGS...]: sets $status; the body is in $body, headers in $headers.
call() {
	local method=$1 path=$2
	shift 2
	status=$(curl -sS -o "$body" -D "$headers" -w '%{http_code}' -X "$method" \
		-H "x-api-key: $key" -H "Authorization: Bearer $token" "$@" "$url$path") ||
		fail "$method $path: no answer from $url"
}
expect() { # expect STATUS WHAT
	[[ $status == "$1" ]] || fail "$2: expected $1, got $status: $(head -c 500 "$body")"
}
field() { jq -r "$1" "$body"; }
header() { tr -d '\r' <"$headers" | awk -v h="$(tr A-Z a-z <<<"$1"):" 'tolower($1) == h { $1 = ""; sub(/^ /, ""); print; exit }'; }

# follow REQUEST-ID: polls the request until it is no longer pending; fails unless succeeded.
follow() {
	local id=$1 deadline=$((SECONDS + wait)) state
	while :; do
		call GET "/requests/$id"
		expect 200 "GET /requests/$id"
		state=$(field .status)
		case $state in
		succeeded) return 0 ;;
		pending) ;;
		*) fail "request $id ended $state: $(cat "$body")" ;;
		esac
		((SECONDS < deadline)) || fail "request $id still pending after ${wait}s"
		sleep 0.5
	done
}

# write METHOD PATH [CURL-ARGS...]: a write that must be accepted (202) and then succeed.
write() {
	local method=$1 path=$2
	shift 2
	step "$method $path"
	call "$method" "$path" "$@"
	expect 202 "$method $path"
	accepted=$(cat "$body")
	[[ -n $(header Location) ]] || fail "$method $path: no Location header"
	follow "$(field .requestId)"
}

# read_user VERSION: GET the user, which must answer 200 with ETag "VERSION".
read_user() {
	step "GET /users/$id"
	call GET "/users/$id"
	expect 200 "GET /users/$id"
	etag=$(header ETag)
	[[ $etag == "\"$1\"" ]] || fail "GET /users/$id: ETag $etag, expected \"$1\""
}

email="smoke-$(date +%s)-$RANDOM@example.com"
write POST /users -H 'Content-Type: application/json' -d "{\"name\":\"Smoke Test\",\"email\":\"$email\"}"
id=$(jq -r .userId <<<"$accepted")
[[ $id != null ]] || fail "POST /users: no userId in $accepted"

read_user 1
[[ $(field .email) == "$email" ]] || fail "GET /users/$id: email $(field .email), expected $email"

write PATCH "/users/$id" -H 'Content-Type: application/merge-patch+json' -H "If-Match: $etag" -d '{"name":"Smoke Patched"}'
read_user 2
[[ $(field .name) == "Smoke Patched" ]] || fail "PATCH did not apply: name $(field .name)"

write DELETE "/users/$id" -H "If-Match: $etag"
call GET "/users/$id"
expect 404 "GET /users/$id after DELETE"
[[ $(header Content-Type) == application/problem+json* ]] || fail "404 is not problem+json: $(header Content-Type)"

step "ok: $url created, read, patched and deleted user $id"
