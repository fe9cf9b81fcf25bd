package localcloud

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// accessLogPrefix starts each access-log line in the cloud's log.
const accessLogPrefix = "[access] "

// accessVar is a $context variable of an access-log format.
var accessVar = regexp.MustCompile(`\$context\.[A-Za-z.]+`)

// accessLog writes one line per API request to w, as API Gateway writes the
// stage's access log: the template's format (AccessLogSetting.Format) with
// each $context variable replaced. Only what the HTTP exchange shows is
// known here (the request id, method, path, status, lengths, latency, the
// client's address, the trace id); every other variable is "-", as API
// Gateway writes a variable without a value.
func accessLog(w io.Writer, format string, next http.Handler) http.Handler {
	if format == "" {
		return next
	}
	var mu sync.Mutex
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &accessRecorder{ResponseWriter: rw, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		ip, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			ip = r.RemoteAddr
		}
		vals := map[string]string{
			"$context.requestId":           rec.Header().Get("X-Amzn-RequestId"),
			"$context.extendedRequestId":   rec.Header().Get("X-Amzn-RequestId"),
			"$context.identity.sourceIp":   ip,
			"$context.requestTime":         start.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			"$context.httpMethod":          r.Method,
			"$context.path":                r.URL.Path,
			"$context.status":              strconv.Itoa(rec.status),
			"$context.protocol":            r.Proto,
			"$context.responseLength":      strconv.Itoa(rec.n),
			"$context.responseLatency":     strconv.FormatInt(time.Since(start).Milliseconds(), 10),
			"$context.xrayTraceId":         traceRoot(rec.Header().Get("X-Amzn-Trace-Id"), r.Header.Get("X-Amzn-Trace-Id")),
			"$context.error.messageString": `"-"`, // a quoted string in API Gateway's list
		}
		line := accessVar.ReplaceAllStringFunc(format, func(v string) string {
			if s, ok := vals[v]; ok && s != "" {
				return s
			}
			return "-"
		})
		mu.Lock()
		defer mu.Unlock()
		bw := bufio.NewWriter(w)
		_, _ = bw.WriteString(accessLogPrefix + strings.ReplaceAll(line, "\n", " ") + "\n")
		_ = bw.Flush()
	})
}

// traceRoot returns the Root of the first X-Ray trace header that has one.
func traceRoot(headers ...string) string {
	for _, h := range headers {
		for part := range strings.SplitSeq(h, ";") {
			if root, ok := strings.CutPrefix(strings.TrimSpace(part), "Root="); ok {
				return root
			}
		}
	}
	return ""
}

// accessRecorder records the status and the length of a response.
type accessRecorder struct {
	http.ResponseWriter
	status int
	n      int
}

func (r *accessRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func (r *accessRecorder) Write(b []byte) (int, error) {
	n, err := r.ResponseWriter.Write(b)
	r.n += n
	return n, err
}

func (r *accessRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// accessLogFormat returns the format of the API stage's access log in the
// template ("" when it has none).
func (c *Cloud) accessLogFormat() string {
	for _, id := range c.Stack.IDs("AWS::Serverless::Api") {
		var api struct {
			AccessLogSetting struct{ Format string }
		}
		if c.Stack.Decode(id, &api) == nil && api.AccessLogSetting.Format != "" {
			return api.AccessLogSetting.Format
		}
	}
	return ""
}
