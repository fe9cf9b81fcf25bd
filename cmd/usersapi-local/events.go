package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"
)

// events replays the archived events of a running local cloud (`make run`)
// through the template's rules again, through its /_local/events/replay
// endpoint, as EventBridge's StartReplay does on AWS.
func events(args []string, out io.Writer) error {
	const use = "usage: usersapi-local events replay --since 10m [--name NAME] [--addr 127.0.0.1:3000]"
	if len(args) == 0 || args[0] != "replay" {
		return errors.New(use)
	}
	fs := flag.NewFlagSet("events replay", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:3000", "where `make run` serves the API")
	since := fs.Duration("since", 0, "replay the events the bus received this long ago and since (such as 10m)")
	name := fs.String("name", "", "the replay's name, which each replayed event carries as replay-name (default: local-<time>)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *since <= 0 || fs.NArg() > 0 {
		return errors.New(use)
	}
	if err := loopback(*addr); err != nil {
		return err
	}
	now := time.Now()
	body, _ := json.Marshal(map[string]any{"replayName": *name, "eventStartTime": now.Add(-*since), "eventEndTime": now})
	resp, err := (&http.Client{Timeout: time.Minute}).Post("http://"+*addr+"/_local/events/replay", "application/json", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("is `make run` running at %s? %w", *addr, err)
	}
	defer resp.Body.Close()
	var res struct {
		ReplayName string `json:"replayName"`
		Replayed   int    `json:"replayed"`
		Error      string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the local cloud answered %s: %s", resp.Status, res.Error)
	}
	plural := "s"
	if res.Replayed == 1 {
		plural = ""
	}
	_, err = fmt.Fprintf(out, "replayed %d event%s received since %s through the rules (replay-name %s)\n",
		res.Replayed, plural, now.Add(-*since).Format(time.TimeOnly), res.ReplayName)
	return err
}
