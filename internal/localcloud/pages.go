package localcloud

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/usersapi/usersapi/internal/eventbridge"
	"github.com/usersapi/usersapi/internal/traceheader"
	"github.com/usersapi/usersapi/internal/xray"
)

//go:embed web
var web embed.FS

// Pages serves the local cloud's own pages and their data under /_local/,
// on the API's listener but to loopback clients only: the X-Ray service map
// and traces, and EventBridge's events as they are put. The pages are plain
// HTML and JavaScript embedded in the binary; they load nothing from the
// network but this server.
type Pages struct {
	XRay *xray.Daemon     // nil: an empty map
	Bus  *eventbridge.Bus // nil: no live events
}

// eventBacklog is how many of the events put before a client connects the
// event stream sends first.
const eventBacklog = 100

// Register adds the pages' routes to mux:
//
//	GET /_local/                    an index of the pages
//	GET /_local/xray                the service map and the recent traces
//	GET /_local/xray/map            the service map (JSON)
//	GET /_local/xray/traces         the traces, newest first (JSON); ?annotation=key=value, repeatable
//	GET /_local/xray/traces/{id}    one trace with its segments (JSON)
//	GET /_local/events              every event put so far (JSON), each not matching the contract marked
//	GET /_local/events/live         EventBridge's events as they are put
//	GET /_local/events/stream       the same as Server-Sent Events
//	POST /_local/events/replay      replay the archived events of a window (JSON, this origin only)
//	GET /_local/assets/             the pages' scripts and styles
func (p *Pages) Register(mux *http.ServeMux) {
	assets, _ := fs.Sub(web, "web/assets")
	routes := map[string]http.Handler{
		"GET /_local/{$}":              page("index"),
		"GET /_local/xray":             page("xray"),
		"GET /_local/xray/map":         http.HandlerFunc(p.serveMap),
		"GET /_local/xray/traces":      http.HandlerFunc(p.serveTraces),
		"GET /_local/xray/traces/{id}": http.HandlerFunc(p.serveTrace),
		"GET /_local/events":           http.HandlerFunc(p.serveEvents),
		"GET /_local/events/live":      page("events"),
		"GET /_local/events/stream":    http.HandlerFunc(p.serveEventStream),
		"POST /_local/events/replay":   sameOriginJSON(http.HandlerFunc(p.serveReplay)),
		"GET /_local/assets/":          http.StripPrefix("/_local/assets/", http.FileServerFS(assets)),
		"GET /_local/assets/{$}":       http.NotFoundHandler(), // no listing
	}
	for pattern, h := range routes {
		mux.Handle(pattern, loopbackOnly(h))
	}
}

// page serves one of the embedded HTML pages in the pages' layout
// (web/layout.html): name is the page, web/<name>.html defines its title and
// main content, and its script and the items of its bar where they are not
// the dev pages' (devpages.js and a status chip).
func page(name string) http.Handler {
	t, err := template.ParseFS(web, "web/layout.html", "web/"+name+".html")
	var buf bytes.Buffer
	if err == nil {
		err = t.ExecuteTemplate(&buf, "layout.html", struct{ Page string }{name})
	}
	if err != nil {
		panic(err) // the embedded files are fixed at build time; the tests read each one
	}
	b := buf.Bytes()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(b)
	})
}

// loopbackOnly refuses clients that are not on this machine, and requests
// whose Host is not a loopback name (a page of another site that rebinds
// its name to 127.0.0.1 must not read these), and sets a strict CSP.
func loopbackOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !loopbackIP(hostOf(r.RemoteAddr)) || !loopbackName(r.Host) {
			http.Error(w, "the /_local/ pages answer loopback clients only", http.StatusForbidden)
			return
		}
		hdr := w.Header()
		hdr.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		hdr.Set("X-Content-Type-Options", "nosniff")
		hdr.Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}

func hostOf(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

func loopbackIP(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func loopbackName(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(strings.ToLower(host), "[]")
	return host == "localhost" || strings.HasSuffix(host, ".localhost") || loopbackIP(host)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func (p *Pages) serveMap(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, p.XRay.Map())
}

// serveTraces answers the trace list; each ?annotation=key=value (or
// ?annotation=key for any value) narrows it.
func (p *Pages) serveTraces(w http.ResponseWriter, r *http.Request) {
	match := map[string]string{}
	for _, a := range r.URL.Query()["annotation"] {
		k, v, _ := strings.Cut(a, "=")
		if k = strings.TrimSpace(k); k != "" {
			match[k] = strings.TrimSpace(v)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"traces": p.XRay.Traces(match)})
}

func (p *Pages) serveTrace(w http.ResponseWriter, r *http.Request) {
	t, ok := p.XRay.Trace(r.PathValue("id"))
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "no trace " + r.PathValue("id") + " is kept"})
		return
	}
	writeJSON(w, http.StatusOK, t)
}

// serveEvents answers every event put so far, with the bus it was put on,
// the rules it matched and, if it does not match the contract, why.
func (p *Pages) serveEvents(w http.ResponseWriter, _ *http.Request) {
	type shown struct {
		eventbridge.Event
		Bus            string   `json:"bus"`
		Rules          []string `json:"rules"`
		SchemaMismatch string   `json:"schemaMismatch,omitempty"`
	}
	var out []shown
	if p.Bus != nil {
		for _, e := range p.Bus.Events() {
			out = append(out, shown{Event: e, Bus: e.Bus, Rules: e.Rules, SchemaMismatch: schemaMismatch(e)})
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"events": out})
}

// streamedEvent is an event as the event stream sends it: EventBridge's
// shape, and what the local bus noted of it.
type streamedEvent struct {
	eventbridge.Event
	Bus     string   `json:"bus"`
	Rules   []string `json:"rules"`
	Trace   string   `json:"trace,omitempty"`
	TraceID string   `json:"trace_id,omitempty"`
	// SchemaMismatch says why the event is not its detail-type's message of
	// api/asyncapi.yaml; empty when it is.
	SchemaMismatch string `json:"schemaMismatch,omitempty"`
}

// serveEventStream sends the bus's recent events, then each event as it is
// put, as Server-Sent Events ("event: put", the event's JSON as data); an
// "event: live" marks the end of the backlog.
func (p *Pages) serveEventStream(w http.ResponseWriter, r *http.Request) {
	if p.Bus == nil {
		http.Error(w, "this local cloud has no event bus", http.StatusNotFound)
		return
	}
	rc := http.NewResponseController(w)
	live, stop := p.Bus.Subscribe() // before the backlog, so that nothing falls between
	defer stop()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)

	backlog := p.Bus.Events()
	if len(backlog) > eventBacklog {
		backlog = backlog[len(backlog)-eventBacklog:]
	}
	sent := map[string]bool{}
	for _, e := range backlog {
		writeEvent(w, e)
		sent[e.ID] = true
	}
	_, _ = io.WriteString(w, "event: live\ndata: {}\n\n")
	if rc.Flush() != nil {
		return
	}
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case e := <-live:
			if sent[e.ID] {
				delete(sent, e.ID) // put between Subscribe and Events: sent with the backlog
				continue
			}
			writeEvent(w, e)
		case <-ping.C:
			_, _ = io.WriteString(w, ": ping\n\n")
		}
		if rc.Flush() != nil {
			return
		}
	}
}

func writeEvent(w io.Writer, e eventbridge.Event) {
	rules := e.Rules
	if rules == nil {
		rules = []string{}
	}
	b, _ := json.Marshal(streamedEvent{Event: e, Bus: e.Bus, Rules: rules, Trace: e.Trace, TraceID: traceheader.Root(e.Trace),
		SchemaMismatch: schemaMismatch(e)})
	fmt.Fprintf(w, "id: %s\nevent: put\ndata: %s\n\n", e.ID, b)
}
