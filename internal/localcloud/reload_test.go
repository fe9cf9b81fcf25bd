package localcloud_test

import (
	"context"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/usersapi/usersapi/internal/localcloud"
	"github.com/usersapi/usersapi/internal/localcloud/cloudtest"
	"github.com/usersapi/usersapi/internal/logbuf"
)

// copyModule copies what the functions are built from (and what the local
// cloud reads) into a temporary directory, with the functions' binaries
// under bin/, so a test can edit sources while others work in the checkout.
func copyModule(tb testing.TB) string {
	tb.Helper()
	bin, err := cloudtest.Build()
	if err != nil {
		tb.Fatal(err)
	}
	root, dst := cloudtest.Root(), tb.TempDir()
	copyTree := func(from, to string) {
		err := filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(from, path)
			target := filepath.Join(to, rel)
			if d.IsDir() {
				return os.MkdirAll(target, 0o755)
			}
			info, err := d.Info()
			if err != nil || !info.Mode().IsRegular() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(target, b, info.Mode().Perm())
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	for _, name := range []string{"go.mod", "go.sum", "template.yaml", "api", "functions", "shared", "third_party"} {
		if fi, err := os.Stat(filepath.Join(root, name)); err == nil && !fi.IsDir() {
			b, _ := os.ReadFile(filepath.Join(root, name))
			if err := os.WriteFile(filepath.Join(dst, name), b, 0o644); err != nil {
				tb.Fatal(err)
			}
			continue
		}
		copyTree(filepath.Join(root, name), filepath.Join(dst, name))
	}
	copyTree(bin, filepath.Join(dst, "bin"))
	return dst
}

// startWatched starts a cloud of its own on a copy of the module, watching it.
func startWatched(tb testing.TB, src string) (*localcloud.Cloud, *logbuf.Buffer) {
	tb.Helper()
	c := cloudtest.Start(tb, "", localcloud.Options{Root: src, BinDir: filepath.Join(src, "bin")})
	out := &logbuf.Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	if err := c.Watch(ctx, out); err != nil {
		tb.Fatal(err)
	}
	return c, out
}

// docsStub is a docs function that answers GET /openapi.json with say.
func docsStub(say string) string {
	return `package main

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		return events.APIGatewayProxyResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "application/json"},
			Body: ` + "`" + `{"say":"` + say + `"}` + "`" + `}, nil
	})
}
`
}

func writeFile(tb testing.TB, path, content string) {
	tb.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// openAPIBody answers GET /openapi.json's body.
func openAPIBody(tb testing.TB, c *localcloud.Cloud) string {
	tb.Helper()
	resp, err := client.Get(c.URL + "/openapi.json")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// until polls cond for up to 60 s.
func until(tb testing.TB, what string, out *logbuf.Buffer, cond func() bool) {
	tb.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	tb.Fatalf("%s: not within 60 s\n--- watch ---\n%s\n--- log ---\n%s", what, out, tail(cloudtest.Log.String()))
}

// TestReloadOnSave edits a copy of the module under a running cloud: a new
// docs function answers once saved, a user written before is still there,
// the read function is left alone, a build error keeps the last good binary,
// and a change to the template asks for a restart.
func TestReloadOnSave(t *testing.T) {
	src := copyModule(t)
	docs := filepath.Join(src, "functions", "docs")
	for _, f := range []string{"handler.go", "main.go"} {
		if err := os.Remove(filepath.Join(docs, f)); err != nil {
			t.Fatal(err)
		}
	}
	c, out := startWatched(t, src)

	mail := email()
	r := expect(t, do(t, c, "POST", "/users", `{"name":"Ada Lovelace","email":"`+mail+`"}`), 202)
	if st := settle(t, c, r.header.Get("Location")); st["status"] != "succeeded" {
		t.Fatalf("request %v", st)
	}
	id, _ := r.body["userId"].(string)

	for _, say := range []string{"reloaded-one", "reloaded-two"} {
		writeFile(t, filepath.Join(docs, "main.go"), docsStub(say))
		until(t, "GET /openapi.json answers "+say, out, func() bool { return strings.Contains(openAPIBody(t, c), say) })
	}
	if n := strings.Count(out.String(), "reloaded DocsFunction in "); n != 2 {
		t.Errorf("%d reload lines for DocsFunction:\n%s", n, out)
	}
	if strings.Contains(out.String(), "ReadFunction") {
		t.Errorf("a change to the docs function reloaded the read function:\n%s", out)
	}
	if _, ok := c.LastReload("DocsFunction"); !ok {
		t.Error("no last reload kept for DocsFunction")
	}

	writeFile(t, filepath.Join(docs, "main.go"), "package main\n\nfunc main() { undefined() }\n")
	until(t, "the build error", out, func() bool {
		return strings.Contains(out.String(), "DocsFunction did not build; the old binary keeps serving")
	})
	if !strings.Contains(out.String(), "undefined: undefined") {
		t.Errorf("the compiler's error is not shown:\n%s", out)
	}
	if body := openAPIBody(t, c); !strings.Contains(body, "reloaded-two") {
		t.Errorf("after a failed build GET /openapi.json answers %s", body)
	}

	u := expect(t, do(t, c, "GET", "/users/"+id, ""), 200)
	if u.body["email"] != mail {
		t.Errorf("the user written before the reloads: %v", u.body)
	}

	f, err := os.OpenFile(filepath.Join(src, "template.yaml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString("# edited\n")
	_ = f.Close()
	until(t, "the restart notice", out, func() bool {
		return strings.Contains(out.String(), "template.yaml changed") && strings.Contains(out.String(), "restart make run")
	})
}

// BenchmarkReload measures save → new code answering for the read function,
// the largest: a file of package read is saved with a new value, and the
// time runs until GET /users/{id} answers from the new binary. Reports the
// p50 and p99 over b.N saves (make bench runs 10).
func BenchmarkReload(b *testing.B) {
	src := copyModule(b)
	c, out := startWatched(b, src)
	mail := email()
	_, created := post(b, c, c.URL+"/users", `{"name":"Ada Lovelace","email":"`+mail+`"}`)
	id, _ := created["userId"].(string)
	mark := filepath.Join(src, "functions", "read", "reload_mark.go")
	save := func(i int) time.Duration {
		before, _ := c.LastReload("ReadFunction")
		start := time.Now()
		writeFile(b, mark, "package main\n\n// reloadMark changes with every save of the benchmark.\nvar reloadMark = \""+strconv.Itoa(i)+"\"\n\nvar _ = reloadMark\n")
		until(b, "ReadFunction reloaded", out, func() bool { r, ok := c.LastReload("ReadFunction"); return ok && r.Saved.After(before.Saved) })
		for {
			resp, err := get(b, c, c.URL+"/users/"+id)
			if err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(start)
			}
			time.Sleep(20 * time.Millisecond) // the user is still being written
		}
	}
	save(-1) // the first build after start compiles what make build's cache lacks
	var took []time.Duration
	i := 0
	for b.Loop() {
		took = append(took, save(i))
		i++
	}
	slices.Sort(took)
	b.ReportMetric(percentile(took, 0.5)/1000, "p50-s")
	b.ReportMetric(percentile(took, 0.99)/1000, "p99-s")
	b.Logf("saves: %v\n%s", took, out)
}
