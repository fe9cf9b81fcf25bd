package localcloud

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/usersapi/usersapi/internal/apigateway"
	"github.com/usersapi/usersapi/internal/cloudwatch"
	"github.com/usersapi/usersapi/internal/emulator"
	"github.com/usersapi/usersapi/internal/eventbridge"
	"github.com/usersapi/usersapi/internal/eventsource"
	"github.com/usersapi/usersapi/internal/logbuf"
	"github.com/usersapi/usersapi/internal/runtimeapi"
	"github.com/usersapi/usersapi/internal/stack"
	"github.com/usersapi/usersapi/internal/waf"
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
	// Parameters override the template's parameter defaults, as sam deploy's
	// --parameter-overrides do; Stage comes from Stage.
	Parameters map[string]any
	// RetryDelay is how soon a failed SQS message is received again (see eventsource.QueueMapping).
	RetryDelay time.Duration
	// ExtraEnv is added to every function's environment (tests use it).
	ExtraEnv map[string]string
	// ExtraAPIKeys are accepted besides the template's keys (tests use it).
	ExtraAPIKeys []*apigateway.APIKey
	// Timeouts overrides functions' timeouts, by logical id (tests use it).
	Timeouts map[string]time.Duration
	// NoMappings leaves the event source mappings off (invoke runs one function once).
	NoMappings bool
	// DynamoDBEndpoint and SQSEndpoint use running emulators instead of starting them.
	DynamoDBEndpoint, SQSEndpoint string
	// Debug names a function (ReadFunction) to build without optimisations
	// and run under Delve's headless server at DebugAddr (default
	// 127.0.0.1:2345; port 0: a free one), with no timeout. Delve is the dlv
	// to run; default: .tools/bin/dlv, then PATH.
	Debug, DebugAddr, Delve string
}

// Cloud is a running local cloud.
type Cloud struct {
	URL      string // the API's base URL, stage included: http://127.0.0.1:port/dev
	Stack    *stack.Stack
	Bus      *eventbridge.Bus
	DynamoDB *dynamodb.Client
	SQS      *sqs.Client
	Pools    map[string]*runtimeapi.Pool // by logical id
	Gateway  *apigateway.Gateway
	WAF      *waf.ACL             // the web ACL the template associates with the stage; nil: none
	Issuer   *Issuer              // signs development tokens; the authorizer trusts it
	APIKeys  []*apigateway.APIKey // the template's API keys, with their local values
	XRay     *xray.Daemon         // the X-Ray daemon: the functions' subsegments, the services' segments
	Metrics  *cloudwatch.Metrics  // the functions' embedded-format metrics, as CloudWatch would extract them
	Debug    *Debug               // the function run under Delve (Options.Debug); nil: none

	opt       Options
	log       *slog.Logger
	streams   *dynamodbstreams.Client
	emulators []*emulator.Server
	apiLn     net.Listener // the API's, taken before the functions start: the authorizer must know where the JWKS is
	servers   []*http.Server
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	endpoints map[string]string // by service, as AWS_ENDPOINT_URL_<service> names them
	reloads   reloads           // each function's last reload (Watch)
}

// DynamoDBEndpoint is where the cloud's DynamoDB Local answers: for tools
// that work on its tables (usersapi-reshard --endpoint).
func (c *Cloud) DynamoDBEndpoint() string { return c.endpoints["DYNAMODB"] }

// Start brings the whole pipeline up and returns once it serves.
func Start(ctx context.Context, opt Options) (_ *Cloud, err error) {
	if opt, err = opt.withDefaults(); err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	// Not the named result: each `return nil, err` below sets that to nil
	// before the deferred Close runs.
	c := &Cloud{opt: opt, cancel: cancel, Pools: map[string]*runtimeapi.Pool{}, endpoints: map[string]string{},
		log:     slog.New(slog.NewTextHandler(opt.Log, &slog.HandlerOptions{Level: slog.LevelInfo})),
		Metrics: cloudwatch.NewMetrics()}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	if err := c.startEmulators(ctx); err != nil {
		return nil, err
	}
	if err := c.deployStack(ctx); err != nil {
		return nil, err
	}
	if err := c.startBus(); err != nil {
		return nil, err
	}
	if c.XRay, err = xray.NewDaemon(); err != nil {
		return nil, err
	}
	if err := c.listen(); err != nil {
		return nil, err
	}
	if err := c.startFunctions(); err != nil {
		return nil, err
	}
	if err := c.startMappings(runCtx); err != nil {
		return nil, err
	}
	if err := c.startGateway(); err != nil {
		return nil, err
	}
	c.serveAPI()
	return c, nil
}

// withDefaults fills in what opt leaves out.
func (opt Options) withDefaults() (Options, error) {
	var err error
	if opt.Root == "" {
		if opt.Root, err = FindRoot(); err != nil {
			return opt, err
		}
	}
	opt.Stage = cmp.Or(opt.Stage, "dev")
	opt.BinDir = cmp.Or(opt.BinDir, filepath.Join(opt.Root, "bin"))
	opt.Addr = cmp.Or(opt.Addr, "127.0.0.1:0")
	if opt.Log == nil {
		opt.Log = os.Stderr
	}
	// Functions, pollers and the gateway all write to it at once.
	opt.Log = &logbuf.Writer{W: opt.Log}
	opt.RetryDelay = cmp.Or(opt.RetryDelay, time.Second)
	if opt.Document == nil {
		if opt.Document, err = os.ReadFile(filepath.Join(opt.Root, "api", "openapi.yaml")); err != nil {
			return opt, err
		}
	}
	return opt, nil
}

// startEmulators starts DynamoDB Local and the SQS emulator, unless opt
// names running ones, and makes the clients of both.
func (c *Cloud) startEmulators(ctx context.Context) error {
	for _, e := range []struct {
		service, endpoint string
		start             func(context.Context, emulator.Options) (*emulator.Server, error)
		dir               string
	}{
		{"DYNAMODB", c.opt.DynamoDBEndpoint, emulator.StartDynamoDB, "dynamodb"},
		{"SQS", c.opt.SQSEndpoint, emulator.StartSQS, "sqs"},
	} {
		if c.endpoints[e.service] = e.endpoint; e.endpoint != "" {
			continue
		}
		srv, err := e.start(ctx, emulator.Options{DataDir: sub(c.opt.DataDir, e.dir)})
		if err != nil {
			return err
		}
		c.emulators = append(c.emulators, srv)
		c.endpoints[e.service] = srv.Endpoint
	}
	cfg := localConfig()
	c.DynamoDB = dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(c.endpoints["DYNAMODB"])
		o.DisableValidateResponseChecksum = true
	})
	c.SQS = sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(c.endpoints["SQS"]) })
	c.streams = dynamodbstreams.NewFromConfig(cfg, func(o *dynamodbstreams.Options) { o.BaseEndpoint = aws.String(c.endpoints["DYNAMODB"]) })
	return nil
}

// deployStack creates the template's tables and queues in the emulators.
func (c *Cloud) deployStack(ctx context.Context) (err error) {
	params := maps.Clone(c.opt.Parameters)
	if params == nil {
		params = map[string]any{}
	}
	params["Stage"] = c.opt.Stage
	if c.Stack, err = stack.Load(filepath.Join(c.opt.Root, "template.yaml"), params); err != nil {
		return err
	}
	return c.Stack.Deploy(ctx, c.DynamoDB, c.SQS)
}

// startBus serves EventBridge's PutEvents with the template's rules and archives.
func (c *Cloud) startBus() error {
	rules, err := eventbridge.Rules(c.Stack)
	if err != nil {
		return err
	}
	archives, err := eventbridge.Archives(c.Stack)
	if err != nil {
		return err
	}
	c.Bus = eventbridge.NewBus(rules, archives...)
	addr, err := c.serve("127.0.0.1:0", c.Bus)
	if err != nil {
		return err
	}
	c.endpoints["EVENTBRIDGE"] = "http://" + addr
	return nil
}

// listen takes the API's address, and loads the token issuer whose JWKS it
// will serve: the functions' environment names both.
func (c *Cloud) listen() (err error) {
	if c.apiLn, err = net.Listen("tcp", c.opt.Addr); err != nil {
		return fmt.Errorf("listen on %s: %w (is another `make run` using it? try --addr 127.0.0.1:0)", c.opt.Addr, err)
	}
	c.URL = "http://" + c.apiLn.Addr().String() + "/" + c.opt.Stage
	c.Issuer, err = LoadIssuer(IssuerKeyPath(c.opt.Root))
	return err
}

// startFunctions makes a pool of each function of the template, with the
// environment Lambda would give it here; no process starts until an invocation.
func (c *Cloud) startFunctions() error {
	fns, err := c.Stack.Functions()
	if err != nil {
		return err
	}
	apiBase := strings.TrimSuffix(c.URL, "/"+c.opt.Stage)
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
		maps.Copy(env, c.opt.ExtraEnv)
		concurrency := 4
		if fn.ReservedConcurrency > 0 {
			concurrency = fn.ReservedConcurrency
		}
		timeout := time.Duration(fn.Timeout) * time.Second
		if t, ok := c.opt.Timeouts[id]; ok {
			timeout = t
		}
		binary := filepath.Join(c.opt.BinDir, binaryDir(id), "bootstrap")
		rf := runtimeapi.Function{
			Name: id, Binary: binary, Env: env,
			Timeout: timeout, MemoryMB: fn.MemorySize, Concurrency: concurrency,
			Log: c.Metrics.Tee(c.opt.Log), Region: stack.Region, Account: stack.Account,
		}
		if id == c.opt.Debug {
			if err := c.startDebug(id, &rf); err != nil {
				return err
			}
		}
		c.Pools[id] = runtimeapi.NewPool(rf)
		if _, err := os.Stat(binary); err != nil {
			return fmt.Errorf("%s has no binary at %s/%s/bootstrap: run `make build`", id, c.opt.BinDir, binaryDir(id))
		}
	}
	if c.opt.Debug != "" && c.Debug == nil {
		return fmt.Errorf("--debug %s: no such function in template.yaml", c.opt.Debug)
	}
	if c.Debug != nil { // Delve listens from now on, before any request
		return c.Pools[c.Debug.Function].Warm()
	}
	return nil
}

// startMappings starts the pollers of the template's event source mappings,
// unless opt leaves them off; they run until Close.
func (c *Cloud) startMappings(ctx context.Context) error {
	if c.opt.NoMappings {
		return nil
	}
	fns, err := c.Stack.Functions()
	if err != nil {
		return err
	}
	env := eventsource.Env{SQS: c.SQS, Streams: c.streams, Log: c.log, RetryDelay: c.opt.RetryDelay,
		StateDir: sub(c.opt.DataDir, "eventsource")}
	for id, fn := range fns {
		for name, ev := range fn.Events {
			p, err := eventsource.New(c.Stack, id, name, ev, c.XRay.Traced(c.Pools[id]), env)
			if err != nil {
				return err
			}
			if p == nil {
				c.log.Warn("event source not emulated", "function", id, "event", name, "type", ev.Type)
				continue
			}
			c.wg.Add(1)
			go func() { defer c.wg.Done(); p.Run(ctx) }()
		}
	}
	return nil
}

// startGateway makes the REST API from the document, with the template's
// API keys, invoking the functions as X-Ray records them, behind the web ACL
// the template associates with the stage.
func (c *Cloud) startGateway() error {
	var err error
	if c.WAF, err = waf.FromStack(c.Stack, c.log); err != nil {
		return fmt.Errorf("template.yaml: %w", err)
	}
	doc, err := c.Stack.ResolveDocument(c.opt.Document)
	if err != nil {
		return err
	}
	if c.APIKeys, err = apigateway.TemplateKeys(c.Stack); err != nil {
		return err
	}
	functions := map[string]apigateway.Function{}
	for id, p := range c.Pools {
		functions[id] = c.XRay.Traced(p)
	}
	c.Gateway, err = apigateway.New(apigateway.Config{Document: doc, Stage: c.opt.Stage, Functions: functions,
		URL:  strings.TrimSuffix(c.URL, "/"+c.opt.Stage),
		Keys: append(slices.Clone(c.APIKeys), c.opt.ExtraAPIKeys...), Log: c.log})
	return err
}

// serveAPI serves the stage, behind its web ACL and traced as API Gateway
// traces it, and the local cloud's own pages beside it.
func (c *Cloud) serveAPI() {
	mux := http.NewServeMux()
	mux.Handle("/", accessLog(c.opt.Log, c.accessLogFormat(), c.WAF.Wrap(c.XRay.API(stack.StackName+"-api", c.opt.Stage, c.Gateway))))
	(&Pages{XRay: c.XRay, Bus: c.Bus}).Register(mux)
	c.registerDevPages(mux)
	mux.Handle("GET /_local/dlq", loopbackOnly(http.HandlerFunc(c.handleDLQ)))
	mux.Handle("POST /_local/dlq/redrive", loopbackOnly(sameOriginJSON(http.HandlerFunc(c.handleDLQ))))
	mux.Handle("GET /_local/metrics", loopbackOnly(c.Metrics))
	mux.Handle("GET /_local/jwks.json", c.Issuer)
	srv := apiServer(mux)
	c.servers = append(c.servers, srv)
	ln := c.apiLn
	go func() { _ = srv.Serve(ln) }()
}

// apiServer is the API's server: a client has 10 s for its headers and 30 s
// for the whole request, body included, so that one sending a byte now and
// then cannot hold a connection (API Gateway does not wait for it either).
func apiServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second}
}

// localConfig is the SDK configuration for the emulators: fixed credentials
// (DynamoDB Local wants an alphanumeric key) in the template's region.
func localConfig() aws.Config {
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
	if c.apiLn != nil {
		_ = c.apiLn.Close() // served or not
	}
	if c.XRay != nil {
		_ = c.XRay.Close()
	}
	if c.Debug != nil {
		_ = os.RemoveAll(c.Debug.dir)
	}
}
