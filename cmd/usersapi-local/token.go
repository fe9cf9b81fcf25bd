package main

import (
	"flag"
	"fmt"
	"io"
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
	root, err := localcloud.FindRoot()
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
