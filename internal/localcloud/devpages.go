package localcloud

import (
	"cmp"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/usersapi/usersapi/internal/cloudwatch"
	"github.com/usersapi/usersapi/internal/runtimeapi"
)

// registerDevPages adds the pages of the dev loop to mux: the functions,
// the queues, the tables and the template's dashboard, each a page and
// its data as JSON, which the page polls.
//
//	GET /_local/functions        GET /_local/functions/data
//	GET /_local/queues           GET /_local/queues/data      (POST /_local/dlq/redrive redrives)
//	GET /_local/tables           GET /_local/tables/data      GET /_local/tables/{id}/items?key=&q=&page=
//	GET /_local/dashboard        GET /_local/dashboard/data
func (c *Cloud) registerDevPages(mux *http.ServeMux) {
	routes := map[string]http.Handler{
		"GET /_local/functions":         page("functions"),
		"GET /_local/functions/data":    http.HandlerFunc(c.serveFunctions),
		"GET /_local/queues":            page("queues"),
		"GET /_local/queues/data":       http.HandlerFunc(c.serveQueues),
		"GET /_local/tables":            page("tables"),
		"GET /_local/tables/data":       http.HandlerFunc(c.serveTables),
		"GET /_local/tables/{id}/items": http.HandlerFunc(c.serveItems),
		"GET /_local/dashboard":         page("dashboard"),
		"GET /_local/dashboard/data":    http.HandlerFunc(c.serveDashboards),
	}
	for pattern, h := range routes {
		mux.Handle(pattern, loopbackOnly(h))
	}
}

// functionView is one function as the functions page shows it.
type functionView struct {
	Name       string           `json:"name"`
	MemoryMB   int              `json:"memoryMB"`
	Timeout    float64          `json:"timeoutSeconds"`
	Stats      runtimeapi.Stats `json:"stats"`
	LastReload *Reload          `json:"lastReload,omitempty"`
}

func (c *Cloud) serveFunctions(w http.ResponseWriter, _ *http.Request) {
	fns, _ := c.Stack.Functions()
	out := []functionView{}
	for _, id := range slices.Sorted(maps.Keys(c.Pools)) {
		v := functionView{Name: id, Stats: c.Pools[id].Stats()}
		if fn := fns[id]; fn != nil {
			v.MemoryMB, v.Timeout = fn.MemorySize, float64(fn.Timeout)
		}
		if r, ok := c.LastReload(id); ok {
			v.LastReload = &r
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"functions": out})
}

// queueView is one queue as the queues page shows it.
type queueView struct {
	ID         string       `json:"id"`
	Name       string       `json:"name"`
	FIFO       bool         `json:"fifo"`
	Visible    int          `json:"visible"`
	InFlight   int          `json:"inFlight"`
	Delayed    int          `json:"delayed"`
	DeadLetter string       `json:"deadLetterQueue,omitempty"` // the queue its failures go to
	Source     string       `json:"source,omitempty"`          // for a dead-letter queue: whose failures it holds
	Messages   []DeadLetter `json:"messages,omitempty"`        // for a dead-letter queue: what it holds
}

func (c *Cloud) serveQueues(w http.ResponseWriter, r *http.Request) {
	dlqs := c.deadLetterQueues()
	dlqOf := map[string]string{}
	for dlq, src := range dlqs {
		dlqOf[src] = dlq
	}
	letters, err := c.DeadLetters(r.Context())
	if err != nil {
		writeJSON(w, http.StatusBadGateway, map[string]string{"error": err.Error()})
		return
	}
	out := []queueView{}
	for _, id := range c.Stack.IDs("AWS::SQS::Queue") {
		res := c.Stack.Resources[id]
		q := queueView{ID: id, Name: res.Name, FIFO: strings.HasSuffix(res.Name, ".fifo"), DeadLetter: dlqOf[id], Source: dlqs[id]}
		attrs, err := c.SQS.GetQueueAttributes(r.Context(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(res.Attr["QueueUrl"]),
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
		if err != nil {
			writeJSON(w, http.StatusBadGateway, map[string]string{"error": err.Error()})
			return
		}
		q.Visible, _ = strconv.Atoi(attrs.Attributes["ApproximateNumberOfMessages"])
		q.InFlight, _ = strconv.Atoi(attrs.Attributes["ApproximateNumberOfMessagesNotVisible"])
		q.Delayed, _ = strconv.Atoi(attrs.Attributes["ApproximateNumberOfMessagesDelayed"])
		if q.Source != "" {
			q.Messages = []DeadLetter{}
			for _, dl := range letters {
				if dl.Queue == id {
					q.Messages = append(q.Messages, dl)
				}
			}
			q.InFlight = max(0, q.InFlight-len(q.Messages)) // this listing holds them for a moment
			q.Visible += len(q.Messages)
		}
		out = append(out, q)
	}
	writeJSON(w, http.StatusOK, map[string]any{"queues": out})
}

// tableView is one table as the tables page shows it.
type tableView struct {
	ID        string      `json:"id"`
	Name      string      `json:"name"`
	Keys      []string    `json:"keys"` // "id (HASH, S)"
	Indexes   []indexView `json:"indexes"`
	Stream    string      `json:"stream"` // the view type, or "off"
	TTL       string      `json:"ttl"`    // the attribute, or "off"
	ItemCount int64       `json:"itemCount"`
}

type indexView struct {
	Name       string   `json:"name"`
	Keys       []string `json:"keys"`
	Projection string   `json:"projection"`
}

func (c *Cloud) serveTables(w http.ResponseWriter, r *http.Request) {
	out := []tableView{}
	for _, id := range c.Stack.IDs("AWS::DynamoDB::Table") {
		t, err := c.describeTable(r.Context(), id)
		if err != nil {
			writeJSON(w, http.StatusBadGateway, map[string]string{"error": err.Error()})
			return
		}
		out = append(out, t)
	}
	writeJSON(w, http.StatusOK, map[string]any{"tables": out})
}

func (c *Cloud) describeTable(ctx context.Context, id string) (tableView, error) {
	name := c.Stack.Resources[id].Name
	d, err := c.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		return tableView{}, err
	}
	types := map[string]string{}
	for _, a := range d.Table.AttributeDefinitions {
		types[aws.ToString(a.AttributeName)] = string(a.AttributeType)
	}
	keys := func(ks []ddbtypes.KeySchemaElement) []string {
		var out []string
		for _, k := range ks {
			n := aws.ToString(k.AttributeName)
			out = append(out, n+" ("+string(k.KeyType)+", "+types[n]+")")
		}
		return out
	}
	t := tableView{ID: id, Name: name, Keys: keys(d.Table.KeySchema), Indexes: []indexView{}, Stream: "off", TTL: "off"}
	for _, g := range d.Table.GlobalSecondaryIndexes {
		p := ""
		if g.Projection != nil {
			p = string(g.Projection.ProjectionType)
		}
		t.Indexes = append(t.Indexes, indexView{Name: aws.ToString(g.IndexName), Keys: keys(g.KeySchema), Projection: p})
	}
	if s := d.Table.StreamSpecification; s != nil && aws.ToBool(s.StreamEnabled) {
		t.Stream = string(s.StreamViewType)
	}
	if ttl, err := c.DynamoDB.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)}); err == nil &&
		ttl.TimeToLiveDescription != nil && ttl.TimeToLiveDescription.TimeToLiveStatus == ddbtypes.TimeToLiveStatusEnabled {
		t.TTL = aws.ToString(ttl.TimeToLiveDescription.AttributeName)
	}
	count, err := c.DynamoDB.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(name), Select: ddbtypes.SelectCount})
	if err != nil {
		return tableView{}, err
	}
	t.ItemCount = int64(count.Count)
	for p := count.LastEvaluatedKey; p != nil; {
		more, err := c.DynamoDB.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(name), Select: ddbtypes.SelectCount, ExclusiveStartKey: p})
		if err != nil {
			return tableView{}, err
		}
		t.ItemCount += int64(more.Count)
		p = more.LastEvaluatedKey
	}
	return t, nil
}

// maxScanned bounds the items the browser reads from one table.
const maxScanned = 20000

// itemsPage is how many items a page of the browser shows.
const itemsPage = 25

// serveItems answers one page of a table's items, newest first: ?key= keeps
// the items whose partition key starts with it, ?q= those whose JSON
// contains it (case-insensitive), ?page= is the page, from 0.
func (c *Cloud) serveItems(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	res, ok := c.Stack.Resources[id]
	if !ok || res.Type != "AWS::DynamoDB::Table" {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no table " + id + " in the template"})
		return
	}
	d, err := c.DynamoDB.DescribeTable(r.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(res.Name)})
	if err != nil {
		writeJSON(w, http.StatusBadGateway, map[string]string{"error": err.Error()})
		return
	}
	hash := ""
	for _, k := range d.Table.KeySchema {
		if k.KeyType == ddbtypes.KeyTypeHash {
			hash = aws.ToString(k.AttributeName)
		}
	}
	key, q := r.URL.Query().Get("key"), strings.ToLower(r.URL.Query().Get("q"))
	pageNo, _ := strconv.Atoi(r.URL.Query().Get("page"))
	type item struct {
		m    map[string]any
		json string
		when string
	}
	var items []item
	truncated := false
	var start map[string]ddbtypes.AttributeValue
	for {
		out, err := c.DynamoDB.Scan(r.Context(), &dynamodb.ScanInput{TableName: aws.String(res.Name), ExclusiveStartKey: start})
		if err != nil {
			writeJSON(w, http.StatusBadGateway, map[string]string{"error": err.Error()})
			return
		}
		for _, av := range out.Items {
			var m map[string]any
			if attributevalue.UnmarshalMap(av, &m) != nil {
				continue
			}
			if key != "" && !strings.HasPrefix(toString(m[hash]), key) {
				continue
			}
			b, _ := json.Marshal(m)
			if q != "" && !strings.Contains(strings.ToLower(string(b)), q) {
				continue
			}
			items = append(items, item{m: m, json: string(b), when: newest(m)})
		}
		start = out.LastEvaluatedKey
		if start == nil {
			break
		}
		if len(items) >= maxScanned {
			truncated = true
			break
		}
	}
	slices.SortStableFunc(items, func(a, b item) int { return cmp.Compare(b.when, a.when) })
	from := min(pageNo*itemsPage, len(items))
	to := min(from+itemsPage, len(items))
	shown := []map[string]any{}
	for _, it := range items[from:to] {
		shown = append(shown, it.m)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": shown, "matched": len(items), "page": pageNo, "pageSize": itemsPage,
		"truncated": truncated, "hashKey": hash})
}

// newest is the latest time an item records (updatedAt, createdAt or any
// attribute named like a time), as a sortable string, or "".
func newest(m map[string]any) string {
	best := ""
	for k, v := range m {
		lk := strings.ToLower(k)
		if !strings.HasSuffix(lk, "at") && !strings.Contains(lk, "time") && lk != "ttl" && lk != "expires" {
			continue
		}
		s := toString(v)
		if n, err := strconv.ParseFloat(s, 64); err == nil { // epoch seconds or milliseconds
			if n < 1e12 {
				n *= 1000
			}
			s = time.UnixMilli(int64(n)).UTC().Format(time.RFC3339Nano)
		} else if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			continue
		}
		if lk != "ttl" && lk != "expires" && s > best {
			best = s
		}
	}
	return best
}

func toString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		b, _ := json.Marshal(v)
		return strings.Trim(string(b), `"`)
	}
}

// dashboardView is one AWS::CloudWatch::Dashboard of the template, its
// widgets filled from the functions' metrics.
type dashboardView struct {
	ID      string              `json:"id"`
	Name    string              `json:"name"`
	Step    float64             `json:"stepSeconds"`
	Widgets []cloudwatch.Widget `json:"widgets"`
}

func (c *Cloud) serveDashboards(w http.ResponseWriter, _ *http.Request) {
	out := []dashboardView{}
	for _, id := range c.Stack.IDs("AWS::CloudWatch::Dashboard") {
		var p struct{ DashboardName, DashboardBody string }
		if err := c.Stack.Decode(id, &p); err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
		}
		ws, err := c.Metrics.Dashboard([]byte(p.DashboardBody))
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": id + ": " + err.Error()})
			return
		}
		out = append(out, dashboardView{ID: id, Name: p.DashboardName, Step: cloudwatch.Step.Seconds(), Widgets: ws})
	}
	writeJSON(w, http.StatusOK, map[string]any{"dashboards": out})
}
