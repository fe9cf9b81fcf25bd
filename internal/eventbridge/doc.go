// Package eventbridge is the local EventBridge: a PutEvents endpoint for the
// functions' SDK, which keeps every event it accepts, notes which of the
// template's rules each one matches, and tells subscribers (the events page)
// as events come.
package eventbridge
