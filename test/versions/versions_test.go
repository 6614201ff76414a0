// Package versions tests state machine versions, aliases, ValidateStateMachineDefinition,
// EXPRESS state machines and variableReferences end to end: a real node driven by
// aws-sdk-go-v2.
package versions

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/sfnd/sfnd/test/testutil"
)

func def(comment string) string {
	return `{"Comment":"` + comment + `","StartAt":"P","States":{"P":{"Type":"Pass","Result":{"c":"` + comment + `"},"End":true}}}`
}

// must returns a call's result, failing the test on its error: must(c.Op(...))(t).
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func versionARNs(t *testing.T, c *sfn.Client, sm string) []string {
	t.Helper()
	out := must(c.ListStateMachineVersions(context.Background(), &sfn.ListStateMachineVersionsInput{StateMachineArn: aws.String(sm)}))(t)
	var arns []string
	for _, v := range out.StateMachineVersions {
		arns = append(arns, *v.StateMachineVersionArn)
	}
	return arns
}

func TestVersions(t *testing.T) {
	ctx := context.Background()
	c := testutil.Client(testutil.StartServer(t))

	created := must(c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String("versioned"), Definition: aws.String(def("r0")), RoleArn: aws.String(testutil.Role),
		Publish: true, VersionDescription: aws.String("first"),
	}))(t)
	sm := *created.StateMachineArn
	if got := aws.ToString(created.StateMachineVersionArn); got != sm+":1" {
		t.Fatalf("version arn %q", got)
	}
	again := must(c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String("versioned"), Definition: aws.String(def("r0")), RoleArn: aws.String(testutil.Role), Publish: true,
	}))(t)
	if aws.ToString(again.StateMachineVersionArn) != sm+":1" {
		t.Fatalf("idempotent create with publish: version %q", aws.ToString(again.StateMachineVersionArn))
	}
	v1 := must(c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(sm + ":1")}))(t)
	if *v1.StateMachineArn != sm+":1" || aws.ToString(v1.Description) != "first" || *v1.Definition != def("r0") {
		t.Fatalf("describe version 1: %+v", v1)
	}

	// The same revision publishes the same version.
	up := must(c.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(sm), Definition: aws.String(def("r0")), Publish: true}))(t)
	if aws.ToString(up.StateMachineVersionArn) != sm+":1" || up.RevisionId != nil {
		t.Fatalf("unchanged update with publish: version %v revision %v", aws.ToString(up.StateMachineVersionArn), aws.ToString(up.RevisionId))
	}
	// A new revision publishes version 2, and publishing it again is idempotent.
	up = must(c.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(sm), Definition: aws.String(def("r1")), Publish: true}))(t)
	if aws.ToString(up.StateMachineVersionArn) != sm+":2" || up.RevisionId == nil {
		t.Fatalf("update with publish: %+v", up)
	}
	pub := must(c.PublishStateMachineVersion(ctx, &sfn.PublishStateMachineVersionInput{StateMachineArn: aws.String(sm), RevisionId: up.RevisionId}))(t)
	if *pub.StateMachineVersionArn != sm+":2" {
		t.Fatalf("republish: %s", *pub.StateMachineVersionArn)
	}
	_, err := c.PublishStateMachineVersion(ctx, &sfn.PublishStateMachineVersionInput{StateMachineArn: aws.String(sm), RevisionId: aws.String("stale")})
	testutil.WantCodeContaining(t, err, "ConflictException", "Failed to publish the State Machine version for revision stale. The current State Machine revision is "+*up.RevisionId)

	if got := versionARNs(t, c, sm); !reflect.DeepEqual(got, []string{sm + ":2", sm + ":1"}) {
		t.Fatalf("versions newest first: %v", got)
	}
	page := must(c.ListStateMachineVersions(ctx, &sfn.ListStateMachineVersionsInput{StateMachineArn: aws.String(sm), MaxResults: 1}))(t)
	if len(page.StateMachineVersions) != 1 || page.NextToken == nil {
		t.Fatalf("first page: %+v", page)
	}
	page = must(c.ListStateMachineVersions(ctx, &sfn.ListStateMachineVersionsInput{StateMachineArn: aws.String(sm), MaxResults: 1, NextToken: page.NextToken}))(t)
	if len(page.StateMachineVersions) != 1 || *page.StateMachineVersions[0].StateMachineVersionArn != sm+":1" || page.NextToken != nil {
		t.Fatalf("second page: %+v", page)
	}
	_, err = c.ListStateMachineVersions(ctx, &sfn.ListStateMachineVersionsInput{StateMachineArn: aws.String(sm), NextToken: aws.String(strings.Repeat("x", 1025))})
	testutil.WantCodeContaining(t, err, "ValidationException", "Member must have length less than or equal to 1024")

	// Updating a version ARN is refused; deleted version numbers are never reused.
	_, err = c.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(sm + ":2"), Definition: aws.String(def("x"))})
	testutil.WantCodeContaining(t, err, "StateMachineDoesNotExist", sm+":2")
	must(c.DeleteStateMachineVersion(ctx, &sfn.DeleteStateMachineVersionInput{StateMachineVersionArn: aws.String(sm + ":2")}))(t)
	must(c.DeleteStateMachineVersion(ctx, &sfn.DeleteStateMachineVersionInput{StateMachineVersionArn: aws.String(sm + ":2")}))(t)
	_, err = c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(sm + ":2")})
	testutil.WantCodeContaining(t, err, "StateMachineDoesNotExist", sm+":2")
	pub = must(c.PublishStateMachineVersion(ctx, &sfn.PublishStateMachineVersionInput{StateMachineArn: aws.String(sm)}))(t)
	if *pub.StateMachineVersionArn != sm+":3" {
		t.Fatalf("after deleting 2, published %s", *pub.StateMachineVersionArn)
	}

	_, err = c.PublishStateMachineVersion(ctx, &sfn.PublishStateMachineVersionInput{StateMachineArn: aws.String("invalid_arn")})
	testutil.WantCodeContaining(t, err, "InvalidArn", "Invalid Arn: 'Invalid ARN prefix: invalid_arn'")
	_, err = c.PublishStateMachineVersion(ctx, &sfn.PublishStateMachineVersionInput{StateMachineArn: aws.String(sm + "-nope")})
	testutil.WantCodeContaining(t, err, "StateMachineDoesNotExist", sm+"-nope")
	_, err = c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String("nopublish"), Definition: aws.String(def("x")), RoleArn: aws.String(testutil.Role), VersionDescription: aws.String("d"),
	})
	testutil.WantCodeContaining(t, err, "ValidationException", "Version description can only be set when publish is true")

	// An execution of a version runs the version's definition and says so.
	ex := must(c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm + ":1")}))(t)
	if !strings.Contains(*ex.ExecutionArn, ":execution:versioned:") {
		t.Fatalf("execution arn %s", *ex.ExecutionArn)
	}
	d := testutil.WaitDone(t, c, *ex.ExecutionArn, 10*time.Second)
	if aws.ToString(d.StateMachineVersionArn) != sm+":1" || *d.StateMachineArn != sm || aws.ToString(d.Output) != `{"c":"r0"}` {
		t.Fatalf("describe version execution: %+v", d)
	}
	list := must(c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(sm + ":3")}))(t)
	if len(list.Executions) != 0 {
		t.Fatalf("executions of version 3: %+v", list.Executions)
	}
	list = must(c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(sm + ":1")}))(t)
	if len(list.Executions) != 1 || aws.ToString(list.Executions[0].StateMachineVersionArn) != sm+":1" {
		t.Fatalf("executions of version 1: %+v", list.Executions)
	}

	// Deleting the state machine deletes its versions.
	must(c.DeleteStateMachine(ctx, &sfn.DeleteStateMachineInput{StateMachineArn: aws.String(sm)}))(t)
	_, err = c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(sm + ":1")})
	testutil.WantCodeContaining(t, err, "StateMachineDoesNotExist", sm+":1")
}

func route(arn string, w int32) types.RoutingConfigurationListItem {
	return types.RoutingConfigurationListItem{StateMachineVersionArn: aws.String(arn), Weight: w}
}

func TestAliases(t *testing.T) {
	ctx := context.Background()
	c := testutil.Client(testutil.StartServer(t))
	created := must(c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String("aliased"), Definition: aws.String(def("r0")), RoleArn: aws.String(testutil.Role), Publish: true,
	}))(t)
	sm := *created.StateMachineArn
	must(c.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(sm), Definition: aws.String(def("r1")), Publish: true}))(t)
	v1, v2 := sm+":1", sm+":2"

	create := func(name, desc string, routes ...types.RoutingConfigurationListItem) (*sfn.CreateStateMachineAliasOutput, error) {
		return c.CreateStateMachineAlias(ctx, &sfn.CreateStateMachineAliasInput{
			Name: aws.String(name), Description: aws.String(desc), RoutingConfiguration: routes,
		})
	}
	al := must(create("live", "d", route(v1, 100)))(t)
	if *al.StateMachineAliasArn != sm+":live" {
		t.Fatalf("alias arn %s", *al.StateMachineAliasArn)
	}
	again := must(create("live", "d", route(v1, 100)))(t)
	if !again.CreationDate.Equal(*al.CreationDate) {
		t.Fatalf("idempotent create changed the date")
	}
	_, err := create("live", "other", route(v1, 100))
	testutil.WantCodeContaining(t, err, "ConflictException", "Failed to create alias because an alias with the same name and a different routing configuration already exists.")

	for _, tc := range []struct {
		name   string
		routes []types.RoutingConfigurationListItem
		code   string
		msg    string
	}{
		{"123", []types.RoutingConfigurationListItem{route(v1, 100)}, "ValidationException", "Member must satisfy regular expression pattern: ^(?=.*[a-zA-Z_\\-\\.])[a-zA-Z0-9_\\-\\.]+$"},
		{"bad name", []types.RoutingConfigurationListItem{route(v1, 100)}, "ValidationException", "at 'name' failed to satisfy constraint"},
		{"three", []types.RoutingConfigurationListItem{route(v1, 50), route(v2, 30), route(sm+":3", 20)}, "ValidationException",
			"RoutingConfigurationListItem(stateMachineVersionArn=" + v1 + ", weight=50)"},
		{"dup", []types.RoutingConfigurationListItem{route(v1, 50), route(v1, 50)}, "ValidationException", "Routing configuration must contain distinct state machine version ARNs. Received: [" + v1 + ", " + v1 + "]"},
		{"unversioned", []types.RoutingConfigurationListItem{route(sm, 100)}, "ValidationException", "Routing configuration must contain state machine version ARNs. Received: [" + sm + "]"},
		{"heavy", []types.RoutingConfigurationListItem{route(v1, 101)}, "ValidationException", "Value '101' at 'routingConfiguration.1.member.weight' failed to satisfy constraint: Member must have value less than or equal to 100"},
		{"light", []types.RoutingConfigurationListItem{route(v1, 70), route(v2, 29)}, "ValidationException", "Sum of routing configuration weights must equal 100. Received: [70, 29]"},
	} {
		_, err := create(tc.name, "", tc.routes...)
		testutil.WantCodeContaining(t, err, tc.code, tc.msg)
	}

	// A version an alias routes to cannot be deleted.
	_, err = c.DeleteStateMachineVersion(ctx, &sfn.DeleteStateMachineVersionInput{StateMachineVersionArn: aws.String(v1)})
	testutil.WantCodeContaining(t, err, "ConflictException", "Version to be deleted must not be referenced by an alias. Current list of aliases referencing this version: [live]")

	upd := must(c.UpdateStateMachineAlias(ctx, &sfn.UpdateStateMachineAliasInput{
		StateMachineAliasArn: al.StateMachineAliasArn, RoutingConfiguration: []types.RoutingConfigurationListItem{route(v1, 50), route(v2, 50)},
	}))(t)
	desc := must(c.DescribeStateMachineAlias(ctx, &sfn.DescribeStateMachineAliasInput{StateMachineAliasArn: al.StateMachineAliasArn}))(t)
	if *desc.Name != "live" || aws.ToString(desc.Description) != "d" || len(desc.RoutingConfiguration) != 2 ||
		!desc.UpdateDate.Equal(*upd.UpdateDate) || desc.RoutingConfiguration[1].Weight != 50 {
		t.Fatalf("describe alias: %+v", desc)
	}

	// An execution through the alias runs one of its versions and records both ARNs.
	ex := must(c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: al.StateMachineAliasArn}))(t)
	d := testutil.WaitDone(t, c, *ex.ExecutionArn, 10*time.Second)
	ver := aws.ToString(d.StateMachineVersionArn)
	if aws.ToString(d.StateMachineAliasArn) != sm+":live" || (ver != v1 && ver != v2) {
		t.Fatalf("alias execution: alias %v version %v", aws.ToString(d.StateMachineAliasArn), ver)
	}
	wantOut := map[string]string{v1: `{"c":"r0"}`, v2: `{"c":"r1"}`}[ver]
	if aws.ToString(d.Output) != wantOut {
		t.Fatalf("alias execution ran %s but output %s", ver, aws.ToString(d.Output))
	}
	h := must(c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: ex.ExecutionArn}))(t)
	started := h.Events[0].ExecutionStartedEventDetails
	if aws.ToString(started.StateMachineAliasArn) != sm+":live" || aws.ToString(started.StateMachineVersionArn) != ver {
		t.Fatalf("ExecutionStarted details: %+v", started)
	}

	must(create("second", "", route(v2, 100)))(t)
	list := must(c.ListStateMachineAliases(ctx, &sfn.ListStateMachineAliasesInput{StateMachineArn: aws.String(sm), MaxResults: 1}))(t)
	if len(list.StateMachineAliases) != 1 || *list.StateMachineAliases[0].StateMachineAliasArn != sm+":live" || list.NextToken == nil {
		t.Fatalf("aliases page 1: %+v", list)
	}
	list = must(c.ListStateMachineAliases(ctx, &sfn.ListStateMachineAliasesInput{StateMachineArn: aws.String(sm), NextToken: list.NextToken}))(t)
	if len(list.StateMachineAliases) != 1 || *list.StateMachineAliases[0].StateMachineAliasArn != sm+":second" {
		t.Fatalf("aliases page 2: %+v", list)
	}
	_, err = c.ListStateMachineAliases(ctx, &sfn.ListStateMachineAliasesInput{StateMachineArn: aws.String(sm), NextToken: aws.String("InvalidToken")})
	testutil.WantCodeContaining(t, err, "InvalidToken", "Invalid Token: 'Invalid token'")

	must(c.DeleteStateMachineAlias(ctx, &sfn.DeleteStateMachineAliasInput{StateMachineAliasArn: al.StateMachineAliasArn}))(t)
	must(c.DeleteStateMachineAlias(ctx, &sfn.DeleteStateMachineAliasInput{StateMachineAliasArn: al.StateMachineAliasArn}))(t)
	_, err = c.UpdateStateMachineAlias(ctx, &sfn.UpdateStateMachineAliasInput{StateMachineAliasArn: al.StateMachineAliasArn, Description: aws.String("x")})
	testutil.WantCodeContaining(t, err, "ResourceNotFound", "Request references a resource that does not exist.")
	must(c.DeleteStateMachineVersion(ctx, &sfn.DeleteStateMachineVersionInput{StateMachineVersionArn: aws.String(v1)}))(t)

	must(c.DeleteStateMachine(ctx, &sfn.DeleteStateMachineInput{StateMachineArn: aws.String(sm)}))(t)
	_, err = c.DescribeStateMachineAlias(ctx, &sfn.DescribeStateMachineAliasInput{StateMachineAliasArn: aws.String(sm + ":second")})
	testutil.WantCodeContaining(t, err, "ResourceNotFound", "")
}

func TestValidateStateMachineDefinition(t *testing.T) {
	ctx := context.Background()
	c := testutil.Client(testutil.StartServer(t))
	for _, tc := range []struct {
		def    string
		typ    types.StateMachineType
		result types.ValidateStateMachineDefinitionResultCode
		codes  []string
	}{
		{`{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`, types.StateMachineTypeStandard, "OK", nil},
		{`{"States":{"A":{"Type":"Pass","End":true}}}`, types.StateMachineTypeStandard, "FAIL", []string{"SCHEMA_VALIDATION_FAILED"}},
		{`not a definition`, types.StateMachineTypeStandard, "FAIL", []string{"INVALID_JSON_DESCRIPTION"}},
		{`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","End":true}}}`,
			types.StateMachineTypeExpress, "FAIL", []string{"SCHEMA_VALIDATION_FAILED"}},
		{`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","End":true}}}`,
			types.StateMachineTypeStandard, "OK", nil},
	} {
		out := must(c.ValidateStateMachineDefinition(ctx, &sfn.ValidateStateMachineDefinitionInput{Definition: aws.String(tc.def), Type: tc.typ}))(t)
		var codes []string
		for _, d := range out.Diagnostics {
			codes = append(codes, *d.Code)
		}
		if out.Result != tc.result || !reflect.DeepEqual(codes, tc.codes) || aws.ToBool(out.Truncated) {
			t.Errorf("%s (%s): result %s codes %v", tc.def, tc.typ, out.Result, codes)
		}
	}
	// Two errors, one returned: truncated.
	bad := `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"X"},"B":{"Type":"Pass","Next":"Y"}}}`
	out := must(c.ValidateStateMachineDefinition(ctx, &sfn.ValidateStateMachineDefinitionInput{Definition: aws.String(bad), MaxResults: 1}))(t)
	if out.Result != "FAIL" || len(out.Diagnostics) != 1 || !aws.ToBool(out.Truncated) {
		t.Fatalf("capped: %+v", out)
	}
	_, err := c.ValidateStateMachineDefinition(ctx, &sfn.ValidateStateMachineDefinitionInput{Definition: aws.String(bad), MaxResults: 101})
	testutil.WantCodeContaining(t, err, "ValidationException", "Member must have value less than or equal to 100")
}

// noHostPrefix keeps the SDK from sending StartSyncExecution to "sync-<host>", as it does
// for AWS's own endpoints.
func noHostPrefix(o *sfn.Options) {
	o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("sfndNoHostPrefix",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
			}), middleware.Before)
	})
}

func TestExpress(t *testing.T) {
	ctx := context.Background()
	c := testutil.Client(testutil.StartServer(t))
	express := must(c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String("fast"), Definition: aws.String(def("e")), RoleArn: aws.String(testutil.Role), Type: types.StateMachineTypeExpress,
	}))(t)
	sync := must(c.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{StateMachineArn: express.StateMachineArn, Input: aws.String(`{"a":1}`), Name: aws.String("n1")}, noHostPrefix))(t)
	prefix := strings.Replace(*express.StateMachineArn, ":stateMachine:", ":express:", 1) + ":n1:"
	if sync.Status != types.SyncExecutionStatusSucceeded || aws.ToString(sync.Output) != `{"c":"e"}` ||
		!strings.HasPrefix(*sync.ExecutionArn, prefix) || aws.ToString(sync.Input) != `{"a":1}` || sync.BillingDetails == nil {
		t.Fatalf("sync execution: %+v", sync)
	}
	failing := must(c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String("fails"), RoleArn: aws.String(testutil.Role), Type: types.StateMachineTypeExpress,
		Definition: aws.String(`{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Boom","Cause":"why"}}}`),
	}))(t)
	sync = must(c.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{StateMachineArn: failing.StateMachineArn}, noHostPrefix))(t)
	if sync.Status != types.SyncExecutionStatusFailed || aws.ToString(sync.Error) != "Boom" || aws.ToString(sync.Cause) != "why" || sync.Output != nil {
		t.Fatalf("failed sync execution: %+v", sync)
	}

	// An asynchronous express execution: an express ARN whose history AWS does not keep.
	ex := must(c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: express.StateMachineArn}))(t)
	if !strings.Contains(*ex.ExecutionArn, ":express:fast:") {
		t.Fatalf("express execution arn %s", *ex.ExecutionArn)
	}
	_, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: ex.ExecutionArn})
	testutil.WantCodeContaining(t, err, "InvalidArn", "Invalid Arn: 'Resource type not valid in this context: express'")
	_, err = c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: ex.ExecutionArn})
	testutil.WantCodeContaining(t, err, "InvalidArn", "Invalid Arn: 'Resource type not valid in this context: express'")
	_, err = c.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: ex.ExecutionArn})
	testutil.WantCodeContaining(t, err, "InvalidArn", "Invalid Arn: 'Resource type not valid in this context: express'")
	_, err = c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: express.StateMachineArn})
	testutil.WantCodeContaining(t, err, "StateMachineTypeNotSupported", "This operation is not supported by this type of state machine")

	standard := must(c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("slow"), Definition: aws.String(def("s")), RoleArn: aws.String(testutil.Role)}))(t)
	_, err = c.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{StateMachineArn: standard.StateMachineArn}, noHostPrefix)
	testutil.WantCodeContaining(t, err, "StateMachineTypeNotSupported", "This operation is not supported by this type of state machine")

	_, err = c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String("callback"), RoleArn: aws.String(testutil.Role), Type: types.StateMachineTypeExpress,
		Definition: aws.String(`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::ecs:runTask.sync","End":true}}}`),
	})
	testutil.WantCodeContaining(t, err, "InvalidDefinition", "SCHEMA_VALIDATION_FAILED: Express state machine does not support '.sync' service integration at /States/T/Resource")
}

func TestVariableReferences(t *testing.T) {
	ctx := context.Background()
	c := testutil.Client(testutil.StartServer(t))
	definition := `{"StartAt":"Set","States":{
	  "Set":{"Type":"Pass","Assign":{"guess":"a","answer":"b"},"Next":"Check"},
	  "Check":{"Type":"Choice","Choices":[{"Variable":"$guess","StringEqualsPath":"$answer","Next":"Use"}],"Default":"Use"},
	  "Use":{"Type":"Pass","Parameters":{"x.$":"States.Format('{}', $guess)","lit":"$notaref"},"End":true}}}`
	sm := must(c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("refs"), Definition: aws.String(definition), RoleArn: aws.String(testutil.Role)}))(t)
	d := must(c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: sm.StateMachineArn}))(t)
	want := map[string][]string{"Check": {"guess", "answer"}, "Use": {"guess"}}
	if !reflect.DeepEqual(d.VariableReferences, want) {
		t.Fatalf("variableReferences %v, want %v", d.VariableReferences, want)
	}
	ex := must(c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn}))(t)
	testutil.WaitDone(t, c, *ex.ExecutionArn, 10*time.Second)
	fe := must(c.DescribeStateMachineForExecution(ctx, &sfn.DescribeStateMachineForExecutionInput{ExecutionArn: ex.ExecutionArn}))(t)
	if !reflect.DeepEqual(fe.VariableReferences, want) {
		t.Fatalf("for execution: variableReferences %v, want %v", fe.VariableReferences, want)
	}
}
