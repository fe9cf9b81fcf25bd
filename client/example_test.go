package client_test

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/usersapi/usersapi/client"
	"github.com/usersapi/usersapi/internal/apigateway"
	"github.com/usersapi/usersapi/internal/emulator"
	"github.com/usersapi/usersapi/internal/localcloud"
	"github.com/usersapi/usersapi/internal/localcloud/cloudtest"
)

// What the examples call: the local cloud that TestMain starts, as make run
// would serve it, and a caller who reads and writes its own users.
var (
	baseURL = "http://127.0.0.1:3000/dev"
	apiKey  = "local-devapikey-0123456789abcdef"
	tokens  client.TokenSource
)

// examples are this file's Example functions, which need the local cloud.
var examples = []string{"ExampleWrite_Wait", "ExampleIfUnmodified"}

// TestMain starts the local cloud (the functions built from this checkout,
// as in internal/localcloud's tests) when an example is to run. Without the
// emulators it runs the tests but not the examples, except under CI=true,
// where it fails.
func TestMain(m *testing.M) {
	flag.Parse()
	if !examplesSelected() {
		os.Exit(m.Run())
	}
	c, err := startCloud()
	if err != nil {
		if os.Getenv("CI") == "true" || !(errors.Is(err, emulator.ErrNotInstalled) || errors.Is(err, emulator.ErrNoJava)) {
			log.Fatalf("client examples: local cloud: %v\n%s", err, cloudtest.Log.String())
		}
		fmt.Fprintf(os.Stderr, "client examples skipped: local cloud: %v (run `make tools`)\n", err)
		if err := flag.Set("test.run", "^(Test|Fuzz)"); err != nil {
			log.Fatal(err)
		}
		os.Exit(m.Run())
	}
	baseURL, apiKey = c.URL, cloudtest.TestKey
	tokens = func(context.Context) (string, error) {
		return c.Issuer.Token("alice", "users.read users.write", time.Hour)
	}
	code := m.Run()
	c.Close()
	os.Exit(code)
}

// examplesSelected reports whether -run selects one of the examples.
func examplesSelected() bool {
	run := flag.Lookup("test.run").Value.String()
	if run == "" {
		return true
	}
	// -run splits on slashes for subtests; an example has none.
	re, err := regexp.Compile(strings.Split(run, "/")[0])
	if err != nil {
		return true // the testing package reports it
	}
	for _, e := range examples {
		if re.MatchString(e) {
			return true
		}
	}
	return false
}

func startCloud() (*localcloud.Cloud, error) {
	bin, err := cloudtest.Build()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return localcloud.Start(ctx, localcloud.Options{Root: cloudtest.Root(), BinDir: bin, Log: cloudtest.Log, RetryDelay: 200 * time.Millisecond,
		ExtraAPIKeys: []*apigateway.APIKey{{Name: "TestKey", Value: cloudtest.TestKey}}})
}

// uniqueEmail returns an address no other run has used: emails are unique.
func uniqueEmail(name string) string {
	return name + "-" + strings.ToLower(rand.Text()[:8]) + "@example.com"
}

// Create a user and wait for the write to be applied.
func ExampleWrite_Wait() {
	ctx := context.Background()
	c, err := client.New(baseURL, client.WithAPIKey(apiKey), client.WithTokenSource(tokens))
	if err != nil {
		log.Fatal(err)
	}
	w, err := c.CreateUser(ctx, client.UserInput{Name: "Ada Lovelace", Email: uniqueEmail("ada"), Age: 36})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("accepted, with a request to follow:", w.RequestID != "")
	u, err := w.Wait(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(u.Name, u.Age, "version", u.Version, "ETag", u.ETag(), "id is the accepted one:", u.ID == w.UserID)
	// Output:
	// accepted, with a request to follow: true
	// Ada Lovelace 36 version 1 ETag "1" id is the accepted one: true
}

// Change a user only if no one else changed it since it was read: If-Match
// with the ETag of the read. A write based on a stale read fails as
// precondition-failed when it is applied.
func ExampleIfUnmodified() {
	ctx := context.Background()
	c, err := client.New(baseURL, client.WithAPIKey(apiKey), client.WithTokenSource(tokens))
	if err != nil {
		log.Fatal(err)
	}
	w, err := c.CreateUser(ctx, client.UserInput{Name: "Grace Hopper", Email: uniqueEmail("grace")})
	if err != nil {
		log.Fatal(err)
	}
	read, err := w.Wait(ctx)
	if err != nil {
		log.Fatal(err)
	}

	// The first change is based on the user as read: it applies.
	w, err = c.PatchUser(ctx, read.ID, client.UserPatch{Age: client.Int(85)}, client.IfUnmodified(read))
	if err != nil {
		log.Fatal(err)
	}
	now, err := w.Wait(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("patched: age", now.Age, "version", now.Version)

	// The second is based on the same, now stale, read: it fails.
	w, err = c.ReplaceUser(ctx, read.ID, client.UserInput{Name: "Grace Brewster Hopper", Email: read.Email}, client.IfMatch(read.ETag()))
	if err != nil {
		log.Fatal(err)
	}
	_, err = w.Wait(ctx)
	var p *client.Problem
	if errors.As(err, &p) {
		fmt.Println("replace:", p.Kind())
	}
	// Output:
	// patched: age 85 version 2
	// replace: precondition-failed
}
