// Command docs serves the API's description of itself: GET /docs is Swagger UI,
// whose assets are embedded at build time (make copies them from the npm package
// swagger-ui-dist into assets/), GET /docs/{file} those assets, and
// GET /openapi.json api/openapi.yaml as JSON, for clients.
package main

import (
	"embed"
	"io/fs"
	"log/slog"

	"github.com/usersapi/usersapi/api"
	"github.com/usersapi/usersapi/shared/function"
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

func main() { function.Start(loadConfig, build) }

// config is what the docs function serves, all embedded in the binary.
type config struct {
	document    []byte
	assets, web fs.FS
}

func loadConfig(func(string) string) (config, error) {
	return config{document: api.OpenAPI, assets: assets, web: web}, nil
}

// build makes the handler once, at init.
func build(cfg config, log *slog.Logger) (any, error) {
	h, err := newHandler(cfg.document, cfg.assets, cfg.web, log)
	if err != nil {
		return nil, err
	}
	return h.Handle, nil
}
