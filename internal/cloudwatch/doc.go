// Package cloudwatch is the local CloudWatch of the functions' metrics: it
// reads the embedded metric format (EMF) lines among the functions' logs, as
// CloudWatch Logs extracts them, and keeps each series' statistics for
// GET /_local/metrics.
package cloudwatch
