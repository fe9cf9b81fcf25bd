package apigw

import (
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// MaxWaitSeconds is the longest Prefer: wait the API honours; a longer one is
// taken as this. A waiting function is billed while it waits, and the write
// functions' timeouts and the API's integration timeout (template.yaml,
// api/openapi.yaml) hold it with room to spare: ten seconds covers the p99 of
// a write's outcome under faults (README, the chaos run) and keeps ingest's
// timeout well under an Idempotency-Key's lease.
const MaxWaitSeconds = 10

// PreferWait returns the seconds that req's Prefer header asks the API to
// wait for the outcome of its work (RFC 7240's wait=N), at most
// MaxWaitSeconds; 0 when it does not ask, asks for 0, or asks in a form the
// API does not take (a value that is not a number of seconds). Of several
// wait preferences, the first counts, as RFC 7240 has it; other preferences
// (respond-async, return=...) are ignored.
func PreferWait(req *events.APIGatewayProxyRequest) int {
	h, ok := LookupHeader(req, "Prefer")
	if !ok {
		return 0
	}
	for pref := range strings.SplitSeq(h, ",") {
		// token [ BWS "=" BWS word ] *( OWS ";" [ OWS parameter ] )
		pref, _, _ = strings.Cut(pref, ";")
		name, value, hasValue := strings.Cut(pref, "=")
		if !strings.EqualFold(strings.TrimSpace(name), "wait") {
			continue
		}
		if !hasValue {
			return 0
		}
		value = strings.TrimSpace(value)
		if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
			value = value[1 : len(value)-1]
		}
		return waitSeconds(value)
	}
	return 0
}

// waitSeconds reads delta-seconds (1*DIGIT), capped at MaxWaitSeconds; 0 for
// anything else.
func waitSeconds(s string) int {
	if s == "" || strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > MaxWaitSeconds {
		return MaxWaitSeconds // all digits: only too large to hold
	}
	return n
}

// PreferenceApplied returns the Preference-Applied value (RFC 7240) that says
// the API waited up to seconds.
func PreferenceApplied(seconds int) string { return "wait=" + strconv.Itoa(seconds) }
