// Package xray is the local X-Ray: a daemon that takes the segment documents
// the functions' X-Ray SDK sends over UDP, records the segments that API
// Gateway and Lambda would send for the local services (Daemon.API,
// Daemon.Invoke), and computes a service map and a searchable list of traces
// from both, for the /_local/xray page.
package xray
