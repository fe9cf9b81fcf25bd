// Package api holds the API's OpenAPI document, api/openapi.yaml: the one
// description of every route, schema and API Gateway extension, which the
// template includes, the local cloud serves and tests check the Go code against.
package api

import _ "embed"

// OpenAPI is the document, as YAML.
//
//go:embed openapi.yaml
var OpenAPI []byte
