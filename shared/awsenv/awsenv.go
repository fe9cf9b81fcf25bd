// Package awsenv builds the AWS SDK configuration of a function from the
// environment that Lambda gives it: region, the execution role's credentials
// and, for local runs, endpoint overrides (AWS_ENDPOINT_URL_<SERVICE>).
// Load is the one way the functions get it: instrumented for tracing and, in
// test builds, fault injection.
//
// It stands in for config.LoadDefaultConfig on purpose: that function links
// and initialises the shared-config, SSO and STS machinery, which more than
// doubles a function's init time for credentials that Lambda already puts in
// the environment (see the init benchmark in the README).
package awsenv

import (
	"cmp"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/usersapi/usersapi/shared/faults"
	"github.com/usersapi/usersapi/shared/trace"
)

// Load returns the SDK configuration that getenv describes (see Config), with
// every client built from it traced (trace.Instrument) and, in builds with the
// tag faultinject, failing as USERSAPI_FAULTS asks (faults.Instrument).
func Load(getenv func(string) string) (aws.Config, error) {
	cfg, err := Config(getenv)
	if err != nil {
		return aws.Config{}, err
	}
	trace.Instrument(&cfg)
	faults.Instrument(&cfg) // a no-op unless built with -tags faultinject (tests only)
	return cfg, nil
}

// Config returns the SDK configuration that getenv describes, uninstrumented.
func Config(getenv func(string) string) (aws.Config, error) {
	region := cmp.Or(getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION"))
	if region == "" {
		return aws.Config{}, errors.New("awsenv: AWS_REGION is not set")
	}
	key, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	if key == "" || secret == "" {
		return aws.Config{}, errors.New("awsenv: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")
	}
	return aws.Config{
		Region:      region,
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(key, secret, getenv("AWS_SESSION_TOKEN"))),
	}, nil
}

// Endpoint returns the endpoint override for service ("DYNAMODB", "SQS",
// "EVENTBRIDGE"), from AWS_ENDPOINT_URL_<SERVICE> or AWS_ENDPOINT_URL, or nil.
func Endpoint(getenv func(string) string, service string) *string {
	if e := cmp.Or(getenv("AWS_ENDPOINT_URL_"+strings.ToUpper(service)), getenv("AWS_ENDPOINT_URL")); e != "" {
		return aws.String(e)
	}
	return nil
}
