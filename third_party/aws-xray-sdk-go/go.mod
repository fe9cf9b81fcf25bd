module github.com/aws/aws-xray-sdk-go/v2

go 1.25.0

require (
	github.com/aws/aws-sdk-go-v2 v1.47.7
	github.com/aws/smithy-go v1.28.8
	github.com/pkg/errors v0.9.1
)
