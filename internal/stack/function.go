package stack

import (
	"encoding/json"
	"fmt"
	"maps"
)

// Function is an AWS::Serverless::Function with the template's Globals merged
// in, as SAM merges them. It is decoded by hand because goformation's model of
// the resource refuses newer properties (LoggingConfig) outright.
type Function struct {
	ID          string
	CodeURI     string
	Handler     string
	Runtime     string
	Timeout     int               // seconds; SAM's default is 3
	MemorySize  int               // MB; SAM's default is 128
	Environment map[string]string // Globals' variables, overridden by the function's
	Events      map[string]Event
	Tracing     string
	// ReservedConcurrency caps the instances that may run at once (0: none set).
	ReservedConcurrency int
	// LogFormat ("Text" or "JSON") and LogLevel (the application log level,
	// JSON only) are LoggingConfig's, Globals' merged in: Lambda hands them to
	// the runtime as AWS_LAMBDA_LOG_FORMAT and AWS_LAMBDA_LOG_LEVEL.
	LogFormat, LogLevel string
	// Alias is the AutoPublishAlias ("" for none).
	Alias string
}

// Event is one event source of a function.
type Event struct {
	Type       string
	Properties map[string]any
}

type functionProps struct {
	CodeUri     any
	Handler     string
	Runtime     string
	Timeout     *int
	MemorySize  *int
	Tracing     string
	Environment struct {
		Variables map[string]any
	}
	Events                       map[string]Event
	ReservedConcurrentExecutions *int
	LoggingConfig                struct {
		LogFormat           string
		ApplicationLogLevel string
	}
	AutoPublishAlias string
}

// Functions returns the template's functions by logical id.
func (s *Stack) Functions() (map[string]*Function, error) {
	var global functionProps
	if g, ok := s.globals["Function"]; ok {
		b, _ := json.Marshal(g)
		if err := json.Unmarshal(b, &global); err != nil {
			return nil, fmt.Errorf("Globals.Function: %w", err)
		}
	}
	out := map[string]*Function{}
	for _, id := range s.IDs("AWS::Serverless::Function") {
		var p functionProps
		if err := s.Decode(id, &p); err != nil {
			return nil, err
		}
		f := &Function{ID: id, Handler: first(p.Handler, global.Handler), Runtime: first(p.Runtime, global.Runtime),
			Timeout: 3, MemorySize: 128, Tracing: first(p.Tracing, global.Tracing), Events: p.Events,
			Environment: map[string]string{},
			LogFormat:   first(p.LoggingConfig.LogFormat, global.LoggingConfig.LogFormat, "Text"),
			LogLevel:    first(p.LoggingConfig.ApplicationLogLevel, global.LoggingConfig.ApplicationLogLevel),
			Alias:       first(p.AutoPublishAlias, global.AutoPublishAlias)}
		if uri, ok := p.CodeUri.(string); ok {
			f.CodeURI = uri
		}
		for _, v := range []*int{global.Timeout, p.Timeout} {
			if v != nil {
				f.Timeout = *v
			}
		}
		for _, v := range []*int{global.MemorySize, p.MemorySize} {
			if v != nil {
				f.MemorySize = *v
			}
		}
		if p.ReservedConcurrentExecutions != nil {
			f.ReservedConcurrency = *p.ReservedConcurrentExecutions
		}
		vars := maps.Clone(global.Environment.Variables)
		if vars == nil {
			vars = map[string]any{}
		}
		maps.Copy(vars, p.Environment.Variables)
		for k, v := range vars {
			if v != nil {
				f.Environment[k] = fmt.Sprint(v)
			}
		}
		out[id] = f
	}
	return out, nil
}

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
