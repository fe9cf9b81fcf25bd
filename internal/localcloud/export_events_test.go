package localcloud

// EventBridgeEndpoint is the local bus's PutEvents endpoint, the one the
// functions' AWS_ENDPOINT_URL_EVENTBRIDGE names.
func (c *Cloud) EventBridgeEndpoint() string { return c.endpoints["EVENTBRIDGE"] }

// EndingStreams is endingStreams, for the end-to-end tests' Chromium runs.
var EndingStreams = endingStreams
