package api_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/usersapi/usersapi/shared/dynamo"
	"github.com/usersapi/usersapi/shared/idempotency"
)

// dataMap returns the rows of docs/privacy.md's data map, by their first
// cell, each as its whole line.
func dataMap(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("../docs/privacy.md")
	if err != nil {
		t.Fatalf("the data map: %v", err)
	}
	rows := map[string]string{}
	for line := range strings.SplitSeq(string(b), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) > 6 && strings.HasPrefix(line, "| **") {
			rows[strings.TrimSpace(cells[1])] = line
		}
	}
	return rows
}

// row returns the data map's one row whose place (its first cell, without
// the bold marks) starts with place; none, or more than one, fails the test.
func row(t *testing.T, rows map[string]string, place string) string {
	t.Helper()
	var found []string
	for k, v := range rows {
		if strings.HasPrefix(strings.ReplaceAll(k, "**", ""), place) {
			found = append(found, v)
		}
	}
	if len(found) != 1 {
		t.Fatalf("docs/privacy.md has %d rows for %q, want one", len(found), place)
	}
	return found[0]
}

// TestRetentionMatchesTheDataMap: every retention that template.yaml or the
// code sets for a place a user's data can be is the one docs/privacy.md
// states for it.
func TestRetentionMatchesTheDataMap(t *testing.T) {
	rows := dataMap(t)
	res := templateResources(t)
	prop := func(resource, name string) *yaml.Node {
		t.Helper()
		n := res[resource].props[name]
		if n == nil {
			t.Fatalf("template.yaml: %s has no %s", resource, name)
		}
		return n
	}
	has := func(place, want string) {
		t.Helper()
		if r := row(t, rows, place); !strings.Contains(r, want) {
			t.Errorf("docs/privacy.md, %s: want %q in\n%s", place, want, r)
		}
	}
	days := func(d time.Duration) string { return fmt.Sprintf("**%d days**", int(d.Hours()/24)) }

	for place, queue := range map[string]string{"write queue": "WriteQueue", "dead-letter queue": "WriteDLQ", "stream failure queue": "StreamFailureQueue"} {
		s, err := strconv.Atoi(prop(queue, "MessageRetentionPeriod").Value)
		if err != nil {
			t.Fatal(err)
		}
		has(place, days(time.Duration(s)*time.Second))
		has(place, fmt.Sprintf("`MessageRetentionPeriod` %d", s))
	}

	archive := prop("UsersBusArchive", "RetentionDays")
	if archive.Tag != "!If" || len(archive.Content) != 3 || archive.Content[0].Value != "IsProd" {
		t.Fatalf("UsersBusArchive's RetentionDays is no longer !If [IsProd, prod, dev]: update this test and docs/privacy.md")
	}
	has("events", fmt.Sprintf("**%s days in prod, %s in dev**", archive.Content[1].Value, archive.Content[2].Value))

	// Every log group keeps LogRetentionDays, whose default the map states.
	var params struct {
		Parameters map[string]struct {
			Default any `yaml:"Default"`
		} `yaml:"Parameters"`
	}
	b, err := os.ReadFile("../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &params); err != nil {
		// The short-form tags (!Ref...) decode into plain values; only Parameters is read.
		t.Fatal(err)
	}
	logDays := fmt.Sprintf("`LogRetentionDays` (**%v days** by default)", params.Parameters["LogRetentionDays"].Default)
	for name, r := range res {
		if r.kind != "AWS::Logs::LogGroup" {
			continue
		}
		if n := r.props["RetentionInDays"]; n == nil || n.Tag != "!Ref" || n.Value != "LogRetentionDays" {
			t.Errorf("%s keeps its logs other than LogRetentionDays days: docs/privacy.md says every log group does", name)
		}
	}
	for _, place := range []string{"the example consumer's log group", "function logs", "access log"} {
		has(place, logDays)
	}

	has("tombstone", days(dynamo.TombstoneTTL))
	has("request records", days(dynamo.RequestTTL))
	has("idempotency table", fmt.Sprintf("**%d hours**", int(idempotency.TTL.Hours())))

	if v := prop("UsersTable", "PointInTimeRecoverySpecification"); !strings.Contains(nodeText(v), "PointInTimeRecoveryEnabled true") {
		t.Errorf("the users table's PITR is not on in every stage, as docs/privacy.md says: %s", nodeText(v))
	}
	has("backups: point-in-time recovery of the users table", "on in every stage")
	if v := prop("UsersTable", "StreamSpecification"); !strings.Contains(nodeText(v), "NEW_AND_OLD_IMAGES") {
		t.Errorf("the stream's view type changed: update docs/privacy.md (%s)", nodeText(v))
	}
	has("the table's stream", "`NEW_AND_OLD_IMAGES`")

	// The prod cache's time to live.
	ttl := ""
	for _, s := range prop("UsersApi", "MethodSettings").Content {
		m := mapping(s)
		if m["CacheTtlInSeconds"] != nil {
			ttl = m["CacheTtlInSeconds"].Value
		}
	}
	has("API Gateway cache", fmt.Sprintf("**%s seconds** (`CacheTtlInSeconds: %s`)", ttl, ttl))
}

// nodeText flattens a YAML node into its scalars, space-separated.
func nodeText(n *yaml.Node) string {
	if len(n.Content) == 0 {
		return n.Value
	}
	var parts []string
	for _, c := range n.Content {
		parts = append(parts, nodeText(c))
	}
	return strings.Join(parts, " ")
}
