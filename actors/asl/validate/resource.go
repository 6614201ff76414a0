package validate

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// This file checks the form of a Task state's Resource: the three kinds of ARN the Step
// Functions developer guide documents for it. A resource of another form (another AWS
// service, a Step Functions ARN with a region and an account that is not an activity) is
// left alone: AWS's verdict on those is not documented and not recorded.
//
//   - a Lambda function (the "Invoke Lambda" legacy form, "Call AWS Lambda with Step
//     Functions"): arn:<partition>:lambda:<region>:<account>:function:<name>[:<version or
//     alias>], where the name is 1-64 letters, digits, hyphens and underscores, and the
//     qualifier is $LATEST or 1-128 letters, digits, hyphens and underscores (the Lambda
//     API reference, FunctionName and Qualifier);
//   - a service integration ("Integrating services with Step Functions", "Service
//     integration patterns"): arn:<partition>:states:::<service>:<apiAction>[.sync |
//     .sync:2 | .waitForTaskToken], and arn:<partition>:states:::aws-sdk:<service>:
//     <apiAction>[...] for the AWS SDK integrations, the action in camel case;
//   - an activity ("Learn about Activities in Step Functions"):
//     arn:<partition>:states:<region>:<account>:activity:<name>, the name following the
//     naming rules of CreateActivity.
//
// The checks are about form only; whether sfnd serves the integration is the business of
// the warnings CreateStateMachine gives (asl.TaskResources).

var (
	lambdaFunctionName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)
	lambdaQualifier    = regexp.MustCompile(`^(\$LATEST|[a-zA-Z0-9_-]{1,128})$`)
	integrationService = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	integrationAction  = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9]*(\.(sync|sync:2|waitForTaskToken))?$`)
)

// validTaskResource reports whether r is a Task state resource of a well-formed kind.
func validTaskResource(r string) bool {
	if !strings.HasPrefix(r, "arn:") || strings.Count(r, ":") < 5 {
		return false
	}
	p := strings.Split(r, ":")
	switch p[2] {
	case "lambda":
		return validLambdaFunctionARN(p)
	case "states":
		if p[3] == "" && p[4] == "" {
			return validIntegrationARN(p)
		}
		if p[5] == "activity" {
			return len(p) == 7 && p[3] != "" && p[4] != "" && validActivityName(p[6])
		}
	}
	return true
}

// validLambdaFunctionARN checks arn:<partition>:lambda:<region>:<account>:function:
// <name>[:<qualifier>], split at ':'. The region and account are not judged: samples
// leave them empty or hold placeholders, and AWS's verdict on those is not recorded.
func validLambdaFunctionARN(p []string) bool {
	if len(p) < 7 || len(p) > 8 || p[5] != "function" || !lambdaFunctionName.MatchString(p[6]) {
		return false
	}
	return len(p) == 7 || lambdaQualifier.MatchString(p[7])
}

// validIntegrationARN checks arn:<partition>:states:::<service>:<action>[.<pattern>] and
// arn:<partition>:states:::aws-sdk:<service>:<action>[.<pattern>], split at ':'.
func validIntegrationARN(p []string) bool {
	service, rest := p[5], p[6:]
	if service == "activity" || !integrationService.MatchString(service) {
		return false // an activity has a region and an account
	}
	if service == "aws-sdk" {
		if len(rest) < 2 || !integrationService.MatchString(rest[0]) {
			return false
		}
		rest = rest[1:]
	}
	return len(rest) > 0 && integrationAction.MatchString(strings.Join(rest, ":"))
}

// validActivityName applies CreateActivity's naming rules: 1-80 characters, none of white
// space, brackets, wildcards, the listed special characters, or control characters.
func validActivityName(name string) bool {
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > 80 {
		return false
	}
	for _, r := range name {
		switch {
		case r <= 0x20, r >= 0x7f && r <= 0x9f:
			return false
		case strings.ContainsRune("<>{}[]?*\"#%\\^|~`$&,;:/", r):
			return false
		case r == '\u00a0' || r == '\u2028' || r == '\u2029' || r == '\u3000' || (r >= '\u2000' && r <= '\u200a'):
			return false
		}
	}
	return true
}
