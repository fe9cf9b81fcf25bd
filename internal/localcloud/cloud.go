package localcloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/usersapi/usersapi/internal/cloudwatch"
	"github.com/usersapi/usersapi/internal/emulator"
	"github.com/usersapi/usersapi/internal/eventbridge"
	"github.com/usersapi/usersapi/internal/eventsource"
	"github.com/usersapi/usersapi/internal/runtimeapi"
	"github.com/usersapi/usersapi/internal/stack"
	"github.com/usersapi/usersapi/internal/xray"
)

// DevSigningKey signs cursors and request ids locally. It is public: never
// use it on AWS, where the key comes from Secrets Manager.
const DevSigningKey = "usersapi-local-signing-key-for-sample-events"

// Options configures a local cloud. Zero values are sensible defaults.
type Options struct {
	Root     string // the repository: template.yaml, api/openapi.yaml, bin/; default: found from the working directory
	BinDir   string // where the functions' binaries are (<dir>/read/bootstrap...); default: bin under Root
	Stage    string // the template's Stage parameter and the API's base path; default "dev"
	Addr     string // where the API listens; default 127.0.0.1:0 (a free port)
	DataDir  string // keep the emulators' data here; default: in memory
	Log      io.Writer
	Document []byte // the OpenAPI document; default: api/openapi.yaml under Root
	// RetryDelay is how soon a failed SQS message is received again (see QueueMapping).
	RetryDelay time.Duration
	// ExtraEnv is added to every function's environment (tests use it).
	ExtraEnv map[string]string
	// Timeouts overrides functions' timeouts, by logical id (tests use it).
	Timeouts map[string]time.Duration
	// NoMappings leaves the event source mappings off (invoke runs one function once).
	NoMappings bool
	// DynamoDBEndpoint and SQSEndpoint use running emulators instead of starting them.
	DynamoDBEndpoint, SQSEndpoint string
}

// Cloud is a running local cloud.
type Cloud struct {
	URL      string // the API's base URL, stage included: http://127.0.0.1:port/dev
	Stack    *stack.Stack
	Bus      *eventbridge.Bus
	DynamoDB *dynamodb.Client
	SQS      *sqs.Client
	Pools    map[string]*runtimeapi.Pool // by logical id
	Gateway  *Gateway
	Issuer   *Issuer             // signs development tokens; the authorizer trusts it
	APIKeys  []*APIKey           // the template's API keys, with their local values
	XRay     *xray.Daemon        // the X-Ray daemon: the functions' subsegments, the services' segments
	Metrics  *cloudwatch.Metrics // the functions' embedded-format metrics, as CloudWatch would extract them

	log       *slog.Logger
	logOut    io.Writer
	emulators []*emulator.Server
	servers   []*http.Server
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	endpoints map[string]string
}

// Start brings the whole pipeline up and returns once it serves.
func Start(ctx context.Context, opt Options) (c *Cloud, err error) {
	if opt.Root == "" {
		if opt.Root, err = FindRoot(); err != nil {
			return nil, err
		}
	}
	if opt.Stage == "" {
		opt.Stage = "dev"
	}
	if opt.BinDir == "" {
		opt.BinDir = filepath.Join(opt.Root, "bin")
	}
	if opt.Addr == "" {
		opt.Addr = "127.0.0.1:0"
	}
	if opt.Log == nil {
		opt.Log = os.Stderr
	}
	// Functions, pollers and the gateway all write to it at once.
	opt.Log = &lockedWriter{w: opt.Log}
	if opt.RetryDelay == 0 {
		opt.RetryDelay = time.Second
	}
	if opt.Document == nil {
		if opt.Document, err = os.ReadFile(filepath.Join(opt.Root, "api", "openapi.yaml")); err != nil {
			return nil, err
		}
	}
	log := slog.New(slog.NewTextHandler(opt.Log, &slog.HandlerOptions{Level: slog.LevelInfo}))
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c = &Cloud{log: log, logOut: opt.Log, cancel: cancel, Pools: map[string]*runtimeapi.Pool{}, endpoints: map[string]string{},
		Metrics: cloudwatch.NewMetrics()}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()

	// The emulators.
	if c.endpoints["DYNAMODB"] = opt.DynamoDBEndpoint; opt.DynamoDBEndpoint == "" {
		srv, err := emulator.StartDynamoDB(ctx, emulator.Options{DataDir: sub(opt.DataDir, "dynamodb")})
		if err != nil {
			return nil, err
		}
		c.emulators = append(c.emulators, srv)
		c.endpoints["DYNAMODB"] = srv.Endpoint
	}
	if c.endpoints["SQS"] = opt.SQSEndpoint; opt.SQSEndpoint == "" {
		srv, err := emulator.StartSQS(ctx, emulator.Options{DataDir: sub(opt.DataDir, "sqs")})
		if err != nil {
			return nil, err
		}
		c.emulators = append(c.emulators, srv)
		c.endpoints["SQS"] = srv.Endpoint
	}
	cfg := LocalConfig()
	c.DynamoDB = dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(c.endpoints["DYNAMODB"])
		o.DisableValidateResponseChecksum = true
	})
	c.SQS = sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(c.endpoints["SQS"]) })
	streams := dynamodbstreams.NewFromConfig(cfg, func(o *dynamodbstreams.Options) { o.BaseEndpoint = aws.String(c.endpoints["DYNAMODB"]) })

	// The template's resources.
	if c.Stack, err = stack.Load(filepath.Join(opt.Root, "template.yaml"), map[string]any{"Stage": opt.Stage}); err != nil {
		return nil, err
	}
	if err := c.Stack.Deploy(ctx, c.DynamoDB, c.SQS); err != nil {
		return nil, err
	}

	// EventBridge.
	rules, err := eventbridge.Rules(c.Stack)
	if err != nil {
		return nil, err
	}
	c.Bus = eventbridge.NewBus(rules)
	busAddr, err := c.serve("127.0.0.1:0", c.Bus)
	if err != nil {
		return nil, err
	}
	c.endpoints["EVENTBRIDGE"] = "http://" + busAddr

	// X-Ray: the functions' SDK sends its subsegments here.
	if c.XRay, err = xray.NewDaemon(); err != nil {
		return nil, err
	}

	// The API's listener comes first: the authorizer must know where the JWKS is.
	apiLn, err := net.Listen("tcp", opt.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w (is another `make run` using it? try --addr 127.0.0.1:0)", opt.Addr, err)
	}
	apiBase := "http://" + apiLn.Addr().String()
	if c.Issuer, err = LoadIssuer(IssuerKeyPath(opt.Root)); err != nil {
		_ = apiLn.Close()
		return nil, err
	}

	// The functions.
	fns, err := c.Stack.Functions()
	if err != nil {
		return nil, err
	}
	for id, fn := range fns {
		env := fn.Environment
		for k, v := range map[string]string{
			"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_SESSION_TOKEN": "local",
			"AWS_ENDPOINT_URL_DYNAMODB": c.endpoints["DYNAMODB"], "AWS_ENDPOINT_URL_SQS": c.endpoints["SQS"],
			"AWS_ENDPOINT_URL_EVENTBRIDGE": c.endpoints["EVENTBRIDGE"],
			"AWS_XRAY_CONTEXT_MISSING":     "IGNORE_ERROR",
			"AWS_XRAY_DAEMON_ADDRESS":      c.XRay.Addr(),
		} {
			env[k] = v
		}
		// As Lambda does with the function's LoggingConfig: the level only with JSON.
		env["AWS_LAMBDA_LOG_FORMAT"] = fn.LogFormat
		if fn.LogFormat == "JSON" && fn.LogLevel != "" {
			env["AWS_LAMBDA_LOG_LEVEL"] = fn.LogLevel
		}
		if _, ok := env["SIGNING_KEY"]; ok {
			env["SIGNING_KEY"] = DevSigningKey
		}
		if _, ok := env["JWKS_URL"]; ok {
			env["JWKS_URL"], env["ISSUER"], env["AUDIENCE"] = apiBase+"/_local/jwks.json", LocalIssuer, LocalAudience
			delete(env, "CLIENT_ID")
		}
		for k, v := range opt.ExtraEnv {
			env[k] = v
		}
		concurrency := 4
		if fn.ReservedConcurrency > 0 {
			concurrency = fn.ReservedConcurrency
		}
		timeout := time.Duration(fn.Timeout) * time.Second
		if t, ok := opt.Timeouts[id]; ok {
			timeout = t
		}
		c.Pools[id] = runtimeapi.NewPool(runtimeapi.Function{
			Name: id, Binary: filepath.Join(opt.BinDir, binaryDir(id), "bootstrap"), Env: env,
			Timeout: timeout, MemoryMB: fn.MemorySize, Concurrency: concurrency,
			Log: c.Metrics.Tee(opt.Log), Region: stack.Region, Account: stack.Account,
		})
		if _, err := os.Stat(filepath.Join(opt.BinDir, binaryDir(id), "bootstrap")); err != nil {
			return nil, fmt.Errorf("%s has no binary at %s/%s/bootstrap: run `make build`", id, opt.BinDir, binaryDir(id))
		}
	}

	// The event source mappings.
	for id, fn := range fns {
		if opt.NoMappings {
			break
		}
		for name, ev := range fn.Events {
			p, err := eventsource.New(c.Stack, id, name, ev, c.XRay.Traced(c.Pools[id]),
				eventsource.Env{SQS: c.SQS, Streams: streams, Log: c.log, RetryDelay: opt.RetryDelay})
			if err != nil {
				return nil, err
			}
			if p == nil {
				c.log.Warn("event source not emulated", "function", id, "event", name, "type", ev.Type)
				continue
			}
			c.wg.Add(1)
			go func() { defer c.wg.Done(); p.Run(runCtx) }()
		}
	}

	// The API.
	doc, err := c.Stack.ResolveDocument(opt.Document)
	if err != nil {
		_ = apiLn.Close()
		return nil, err
	}
	if c.Gateway, err = NewGateway(doc, opt.Stage, c.Pools, log); err != nil {
		_ = apiLn.Close()
		return nil, err
	}
	if c.APIKeys, err = c.apiKeys(); err != nil {
		_ = apiLn.Close()
		return nil, err
	}
	c.Gateway.SetAPIKeys(c.APIKeys)
	c.Gateway.xray = c.XRay
	mux := http.NewServeMux()
	mux.Handle("/", c.XRay.API(stack.StackName+"-api", opt.Stage, c.Gateway))
	(&Pages{XRay: c.XRay, Bus: c.Bus}).Register(mux)
	mux.Handle("GET /_local/events", loopbackOnly(http.HandlerFunc(c.handleEvents)))
	mux.Handle("GET /_local/dlq", loopbackOnly(http.HandlerFunc(c.handleDLQ)))
	mux.Handle("POST /_local/dlq/redrive", loopbackOnly(http.HandlerFunc(c.handleDLQ)))
	mux.Handle("GET /_local/metrics", loopbackOnly(c.Metrics))
	mux.Handle("GET /_local/jwks.json", c.Issuer)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	c.servers = append(c.servers, srv)
	go func() { _ = srv.Serve(apiLn) }()
	c.URL = apiBase + "/" + opt.Stage
	return c, nil
}

// LocalConfig is the SDK configuration for the emulators: fixed credentials
// (DynamoDB Local wants an alphanumeric key) in the template's region.
func LocalConfig() aws.Config {
	return aws.Config{Region: stack.Region, Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
}

// binaryDir is where `make build` puts a function's binary: ReadFunction in bin/read.
func binaryDir(logicalID string) string {
	return strings.ToLower(strings.TrimSuffix(logicalID, "Function"))
}

func sub(dir, name string) string {
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, name)
}

// FindRoot returns the repository: the directory holding template.yaml, here or above.
func FindRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "template.yaml")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no template.yaml here or above: run from the usersapi repository")
		}
		dir = parent
	}
}

func (c *Cloud) serve(addr string, h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("listen on %s: %w (is another `make run` using it?)", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	c.servers = append(c.servers, srv)
	go func() { _ = srv.Serve(ln) }()
	return ln.Addr().String(), nil
}

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// apiKeys returns the template's API keys with their usage plans. A key
// whose Value the template leaves to CloudFormation gets a fixed local value.
func (c *Cloud) apiKeys() ([]*APIKey, error) {
	plans := map[string]*UsagePlan{}
	for _, id := range c.Stack.IDs("AWS::ApiGateway::UsagePlan") {
		var p struct {
			UsagePlanName string
			Throttle      struct {
				RateLimit  float64
				BurstLimit int
			}
			Quota struct {
				Limit  int
				Period string
			}
		}
		if err := c.Stack.Decode(id, &p); err != nil {
			return nil, err
		}
		plans[c.Stack.Resources[id].Ref] = &UsagePlan{Name: first(p.UsagePlanName, id), RateLimit: p.Throttle.RateLimit,
			BurstLimit: p.Throttle.BurstLimit, QuotaLimit: p.Quota.Limit, QuotaPeriod: p.Quota.Period}
	}
	keys := map[string]*APIKey{}
	var out []*APIKey
	for _, id := range c.Stack.IDs("AWS::ApiGateway::ApiKey") {
		var k struct{ Value string }
		if err := c.Stack.Decode(id, &k); err != nil {
			return nil, err
		}
		key := &APIKey{Name: id, Value: first(k.Value, "local-"+strings.ToLower(id)+"-0123456789abcdef")}
		keys[c.Stack.Resources[id].Ref] = key
		out = append(out, key)
	}
	for _, id := range c.Stack.IDs("AWS::ApiGateway::UsagePlanKey") {
		var pk struct{ KeyId, UsagePlanId string }
		if err := c.Stack.Decode(id, &pk); err != nil {
			return nil, err
		}
		if k, ok := keys[pk.KeyId]; ok {
			k.Plan = plans[pk.UsagePlanId]
		}
	}
	return out, nil
}

func (c *Cloud) handleEvents(w http.ResponseWriter, r *http.Request) {
	type shown struct {
		eventbridge.Event
		Bus   string   `json:"bus"`
		Rules []string `json:"rules"`
	}
	var out []shown
	for _, e := range c.Bus.Events() {
		out = append(out, shown{Event: e, Bus: e.Bus, Rules: e.Rules})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"events": out})
}

// Close stops everything Start started: pollers, servers, function processes, emulators.
func (c *Cloud) Close() {
	c.cancel()
	c.wg.Wait()
	for _, s := range c.servers {
		_ = s.Close()
	}
	for _, p := range c.Pools {
		p.Close()
	}
	for _, e := range c.emulators {
		_ = e.Stop()
	}
	_ = c.XRay.Close()
}

// lockedWriter serialises writes to w, so that lines do not interleave.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
