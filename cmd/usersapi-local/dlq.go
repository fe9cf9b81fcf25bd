package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"
)

// dlq lists or redrives the dead-letter queues of a running local cloud
// (`make run`), through its /_local/dlq endpoints.
func dlq(args []string, out io.Writer) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "redrive") {
		return errors.New("usage: usersapi-local dlq list|redrive [--addr 127.0.0.1:3000]")
	}
	fs := flag.NewFlagSet("dlq", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:3000", "where `make run` serves the API")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if err := loopback(*addr); err != nil {
		return err
	}
	client := &http.Client{Timeout: time.Minute}
	url := "http://" + *addr + "/_local/dlq"
	var resp *http.Response
	var err error
	if args[0] == "list" {
		resp, err = client.Get(url)
	} else {
		resp, err = client.Post(url+"/redrive", "application/json", nil)
	}
	if err != nil {
		return fmt.Errorf("is `make run` running at %s? %w", *addr, err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(out, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the local cloud answered %s", resp.Status)
	}
	return nil
}
