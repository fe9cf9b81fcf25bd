package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/usersapi/usersapi/internal/eventbridge"
	"github.com/usersapi/usersapi/internal/localcloud"
)

// TestEventsReplay replays through the local cloud's own replay endpoint,
// served over a bus with an archive, as `make run` serves it.
func TestEventsReplay(t *testing.T) {
	bus := eventbridge.NewBus(nil, eventbridge.Archive{Name: "Users", Bus: "users"})
	req := httptest.NewRequest("POST", "/", strings.NewReader(`{"Entries":[{"Source":"usersapi","DetailType":"UserCreated","Detail":"{}","EventBusName":"users"}]}`))
	req.Header.Set("X-Amz-Target", "AWSEvents.PutEvents")
	bus.ServeHTTP(httptest.NewRecorder(), req)
	mux := http.NewServeMux()
	(&localcloud.Pages{Bus: bus}).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")

	var out strings.Builder
	if err := events([]string{"replay", "--since", "10m", "--name", "cli-test", "--addr", addr}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "replayed 1 event received since ") || !strings.Contains(out.String(), "(replay-name cli-test)") {
		t.Errorf("printed %q", out.String())
	}
	evs := bus.Events()
	if len(evs) != 2 || evs[1].ReplayName != "cli-test" {
		t.Errorf("events %+v", evs)
	}

	for _, args := range [][]string{
		nil,
		{"list"},
		{"replay"},                   // no window
		{"replay", "--since", "-1m"}, // a window in the future
		{"replay", "--since", "10m", "extra"},
		{"replay", "--since", "10m", "--addr", "192.0.2.1:3000"},      // not loopback
		{"replay", "--since", "10m", "--name", "a b", "--addr", addr}, // the endpoint refuses the name
	} {
		if err := events(args, &out); err == nil {
			t.Errorf("events %q: no error", args)
		}
	}
}
