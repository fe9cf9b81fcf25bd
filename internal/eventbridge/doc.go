// Package eventbridge is the local EventBridge: a PutEvents endpoint for the
// functions' SDK, which keeps every event it accepts, notes which of the
// template's rules each one matches, tells subscribers (the events page) as
// events come, and archives them as the template's AWS::Events::Archive does
// (its pattern, its retention), so that Replay can send a window of them
// through the rules again, marked with replay-name as EventBridge marks them.
package eventbridge
