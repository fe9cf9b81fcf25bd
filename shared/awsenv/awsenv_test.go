package awsenv_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/usersapi/usersapi/shared/awsenv"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfig(t *testing.T) {
	cfg, err := awsenv.Config(env(map[string]string{"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "tok"}))
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || cfg.Region != "eu-west-1" || creds.AccessKeyID != "AKID" || creds.SessionToken != "tok" {
		t.Fatalf("cfg %+v creds %+v err %v", cfg, creds, err)
	}
	for _, bad := range []map[string]string{{"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s"}, {"AWS_REGION": "x"}} {
		if _, err := awsenv.Config(env(bad)); err == nil {
			t.Errorf("Config(%v) succeeded", bad)
		}
	}
}

func TestEndpoint(t *testing.T) {
	e := env(map[string]string{"AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:9324", "AWS_ENDPOINT_URL": "http://127.0.0.1:1"})
	if got := aws.ToString(awsenv.Endpoint(e, "sqs")); got != "http://127.0.0.1:9324" {
		t.Errorf("sqs endpoint %q", got)
	}
	if got := aws.ToString(awsenv.Endpoint(e, "DYNAMODB")); got != "http://127.0.0.1:1" {
		t.Errorf("dynamodb endpoint %q", got)
	}
	if awsenv.Endpoint(env(nil), "SQS") != nil {
		t.Error("an endpoint without any override")
	}
}

func TestLoad(t *testing.T) {
	cfg, err := awsenv.Load(env(map[string]string{"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-west-1" || len(cfg.APIOptions) == 0 {
		t.Errorf("Load: region %q, %d API options (want the tracing instrumentation)", cfg.Region, len(cfg.APIOptions))
	}
	if _, err := awsenv.Load(env(nil)); err == nil {
		t.Error("Load without a region or credentials succeeded")
	}
}
