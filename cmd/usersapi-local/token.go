package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/usersapi/usersapi/internal/localcloud"
)

// token prints a development JWT signed by the local cloud's issuer, which
// the local authorizer trusts.
func token(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	sub := fs.String("sub", "dev-user", "the subject: who the caller is")
	scope := fs.String("scope", "users.read users.write", "space-separated scopes: users.read, users.write, users.admin")
	ttl := fs.Duration("ttl", time.Hour, "how long the token is valid")
	if err := fs.Parse(args); err != nil {
		return err
	}
	root, err := repoRoot()
	if err != nil {
		return err
	}
	is, err := localcloud.LoadIssuer(localcloud.IssuerKeyPath(root))
	if err != nil {
		return err
	}
	tok, err := is.Token(*sub, *scope, *ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, tok)
	return nil
}

func repoRoot() (string, error) {
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
