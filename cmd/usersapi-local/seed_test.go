package main

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/usersapi/usersapi/client"
	"github.com/usersapi/usersapi/internal/localcloud"
	"github.com/usersapi/usersapi/internal/localcloud/cloudtest"
	"github.com/usersapi/usersapi/internal/seed"
)

// TestSeed: `seed --users 4` against a running cloud creates 4 users through
// the API with the development key and a token it signs itself, and says so;
// a run sent twice with the same tag (its Idempotency-Keys) creates its users once.
func TestSeed(t *testing.T) {
	c := cloudtest.Start(t, "", localcloud.Options{})
	u, err := url.Parse(c.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	var out, progress strings.Builder
	if err := seedUsers(ctx, []string{"--users", "4", "--addr", u.Host, "--concurrency", "2"}, &out, &progress); err != nil {
		t.Fatalf("seed: %v\n%s\n%s", err, out.String(), cloudtest.Log.String())
	}
	if !regexp.MustCompile(`^created 4 of 4 users in [0-9.]+ s`).MatchString(out.String()) {
		t.Errorf("report = %q", out.String())
	}
	if !strings.Contains(progress.String(), "seed: 4/4 users (100%)") {
		t.Errorf("progress (not a terminal: plain lines) = %q", progress.String())
	}

	is, err := localcloud.LoadIssuer(localcloud.IssuerKeyPath(cloudtest.Root()))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := is.Token("seed-test", "users.read users.write users.admin", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	api, err := client.New(c.URL, client.WithAPIKey(cloudtest.TestKey), client.WithTokenSource(client.StaticToken(tok)))
	if err != nil {
		t.Fatal(err)
	}
	tag := "again" + strings.ToLower(time.Now().Format("150405"))
	for run := range 2 {
		res, err := seed.Run(ctx, seed.Config{Client: api, Users: 3, Tag: tag})
		if err != nil || res.Created != 3 || res.Failed != 0 {
			t.Fatalf("run %d: %+v, %v", run, res, err)
		}
	}
	found := 0
	for user, err := range api.ListUsers(ctx, 100) {
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(user.Email, "+"+tag) {
			found++
		}
	}
	if found != 3 {
		t.Errorf("%d users of the run sent twice, want 3", found)
	}
}
