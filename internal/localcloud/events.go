package localcloud

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/usersapi/usersapi/api"
	"github.com/usersapi/usersapi/internal/eventbridge"
	"github.com/usersapi/usersapi/internal/eventschema"
)

// contract is the change events' schemas of api/asyncapi.yaml, compiled on
// first use.
var contract = sync.OnceValues(func() (eventschema.Schemas, error) {
	return eventschema.New(api.AsyncAPI, api.OpenAPI)
})

// schemaMismatch says why e is not its detail-type's message of the
// contract (an unknown detail-type is not); empty when it is.
func schemaMismatch(e eventbridge.Event) string {
	schemas, err := contract()
	if err != nil {
		return "the contract cannot be read: " + err.Error()
	}
	b, err := json.Marshal(e)
	if err != nil {
		return err.Error()
	}
	if err := schemas.Check(b); err != nil {
		return err.Error()
	}
	return ""
}

// replayRequest is the body of POST /_local/events/replay, in the words of
// EventBridge's StartReplay.
type replayRequest struct {
	ReplayName     string    `json:"replayName"`     // default: local-<time>
	EventStartTime time.Time `json:"eventStartTime"` // required
	EventEndTime   time.Time `json:"eventEndTime"`   // default: now
}

// serveReplay replays the archived events received in the request's window
// through the rules again (eventbridge.Bus.Replay) and answers how many.
func (p *Pages) serveReplay(w http.ResponseWriter, r *http.Request) {
	if p.Bus == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "this local cloud has no event bus"})
		return
	}
	var in replayRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "the body is not a replay: " + err.Error()})
		return
	}
	if in.EventStartTime.IsZero() {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "eventStartTime is required (RFC 3339)"})
		return
	}
	now := time.Now()
	if in.EventEndTime.IsZero() {
		in.EventEndTime = now
	}
	if in.ReplayName == "" {
		in.ReplayName = "local-" + now.UTC().Format("20060102T150405.000Z")
	}
	n, err := p.Bus.Replay(in.ReplayName, in.EventStartTime, in.EventEndTime)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"replayName": in.ReplayName, "replayed": n})
}
