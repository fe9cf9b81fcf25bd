//go:build !faultinject

package faults

import "github.com/aws/aws-sdk-go-v2/aws"

// Instrument adds the fault injectors to cfg's clients; in this build, none.
func Instrument(*aws.Config) {}
