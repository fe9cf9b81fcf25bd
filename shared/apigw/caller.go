package apigw

import (
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/usersapi/usersapi/shared/users"
)

// Caller returns who makes req, from the context that the Lambda authorizer
// gave API Gateway ("sub" and "scopes"). A request with no such context was
// not authenticated: that is an Unauthorized error, never an anonymous caller.
func Caller(req *events.APIGatewayProxyRequest) (users.Caller, error) {
	a := req.RequestContext.Authorizer
	sub, _ := a["sub"].(string)
	if sub == "" {
		sub, _ = a["principalId"].(string)
	}
	if sub == "" {
		return users.Caller{}, users.Errorf(users.Unauthorized, "a bearer token is required")
	}
	scopes, _ := a["scopes"].(string)
	if scopes == "" && a["scopes"] != nil {
		scopes = fmt.Sprint(a["scopes"])
	}
	return users.NewCaller(sub, scopes), nil
}
