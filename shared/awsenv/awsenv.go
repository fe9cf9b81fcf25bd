// Package awsenv builds the AWS SDK configuration of a function from the
// environment that Lambda gives it: region, the execution role's credentials
// and, for local runs, endpoint overrides (AWS_ENDPOINT_URL_<SERVICE>).
//
// It stands in for config.LoadDefaultConfig on purpose: that function links
// and initialises the shared-config, SSO and STS machinery, which more than
// doubles a function's init time for credentials that Lambda already puts in
// the environment (see the init benchmark in the README).
package awsenv

import (
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Config returns the SDK configuration that getenv describes.
func Config(getenv func(string) string) (aws.Config, error) {
	region := first(getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION"))
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
	if e := first(getenv("AWS_ENDPOINT_URL_"+strings.ToUpper(service)), getenv("AWS_ENDPOINT_URL")); e != "" {
		return aws.String(e)
	}
	return nil
}

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
