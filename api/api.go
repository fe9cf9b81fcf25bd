// Package api holds the API's OpenAPI document, api/openapi.yaml: the one
// description of every route, schema and API Gateway extension, which the
// template includes, the local cloud serves and tests check the Go code against;
// and its AsyncAPI document, api/asyncapi.yaml: the change events on the bus,
// whose user is the OpenAPI document's User.
package api

import _ "embed"

// OpenAPI is the document, as YAML.
//
//go:embed openapi.yaml
var OpenAPI []byte

// AsyncAPI is the change events' document, as YAML. Its schemas refer to
// OpenAPI's ("./openapi.yaml#/components/schemas/User").
//
//go:embed asyncapi.yaml
var AsyncAPI []byte
