// Package waf runs an AWS WAF web ACL of the template in front of the API, as
// AWS WAF does in front of an API Gateway stage it is associated with: its
// rules in priority order (size constraints, rate-based rules per client IP),
// each answered with its action and the ACL's custom response bodies, before
// the gateway sees the request.
package waf
