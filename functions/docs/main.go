// Command docs serves the API's description of itself: GET /docs is Swagger UI,
// whose assets are embedded at build time (make copies them from the npm package
// swagger-ui-dist into assets/), GET /docs/{file} those assets, and
// GET /openapi.json api/openapi.yaml as JSON, for clients.
package main

import (
	"embed"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/usersapi/usersapi/api"
	"github.com/usersapi/usersapi/shared/trace"
)

// assets holds Swagger UI's files, or only the placeholder README.md when the
// binary was built without `make` (the handler then answers 503).
//
//go:embed assets
var assets embed.FS

// web holds the page and the script that starts Swagger UI: this project's own.
//
//go:embed web
var web embed.FS

func main() {
	log := trace.NewLogger()
	h, err := newHandler(api.OpenAPI, assets, web, log)
	if err != nil {
		log.Error("docs", "err", err)
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}
