package integrations

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sfnd/sfnd/test/testutil"
)

// dynalite starts dynalite (a DynamoDB implementation on LevelDB, from npm) and
// returns its endpoint.
func dynalite(t *testing.T) string {
	t.Helper()
	bin := testutil.NPMPackage(t, "dynalite", "4.0.0", "dynalite")
	port := testutil.FreePort(t)
	testutil.RunServer(t, port, t.TempDir(), "node", bin, "--port", strconv.Itoa(port), "--createTableMs", "0",
		"--deleteTableMs", "0", "--updateTableMs", "0")
	return "http://127.0.0.1:" + strconv.Itoa(port)
}

// outputOf decodes an execution's output.
func outputOf(t *testing.T, out string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	return m
}

// TestDynamoDB runs the optimized DynamoDB integration (getItem, putItem, updateItem,
// deleteItem) and aws-sdk:dynamodb against dynalite: items really written and read,
// outputs in DynamoDB JSON with the SDK metadata, service errors caught by name.
func TestDynamoDB(t *testing.T) {
	ddb := dynalite(t)
	a := testutil.Start(t, testutil.Options{Endpoints: map[string]string{"dynamodb": ddb}})
	c := client(a)

	// aws-sdk:dynamodb:createTable: any API action by name, the output as DynamoDB gives it.
	_, out := run(t, c, "create", `{"StartAt":"C","States":{"C":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:dynamodb:createTable",
		"Parameters":{"TableName":"orders","BillingMode":"PAY_PER_REQUEST",
			"AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],
			"KeySchema":[{"AttributeName":"id","KeyType":"HASH"}]},"End":true}}}`, `{}`)
	if out.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("createTable: %s %s %s", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
	}
	desc := outputOf(t, aws.ToString(out.Output))["TableDescription"].(map[string]any)
	if desc["TableName"] != "orders" || !strings.HasPrefix(desc["TableArn"].(string), "arn:aws:dynamodb:") {
		t.Fatalf("createTable output %s", aws.ToString(out.Output))
	}

	// putItem, updateItem (with a condition and ReturnValues), getItem, deleteItem.
	def := `{"StartAt":"Put","States":{
		"Put":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:putItem",
			"Parameters":{"TableName":"orders","Item":{"id":{"S.$":"$.id"},"qty":{"N":"2"},"tags":{"SS":["a","b"]},"ok":{"BOOL":true}}},
			"ResultPath":"$.put","Next":"Update"},
		"Update":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:updateItem",
			"Parameters":{"TableName":"orders","Key":{"id":{"S.$":"$.id"}},"UpdateExpression":"SET qty = qty + :n",
				"ConditionExpression":"attribute_exists(id)","ExpressionAttributeValues":{":n":{"N":"3"}},"ReturnValues":"UPDATED_NEW"},
			"ResultPath":"$.update","Next":"Get"},
		"Get":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:getItem",
			"Parameters":{"TableName":"orders","Key":{"id":{"S.$":"$.id"}},"ConsistentRead":true},
			"ResultPath":"$.get","Next":"Delete"},
		"Delete":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:deleteItem",
			"Parameters":{"TableName":"orders","Key":{"id":{"S.$":"$.id"}},"ReturnValues":"ALL_OLD"},
			"ResultPath":"$.delete","End":true}}}`
	_, out = run(t, c, "crud", def, `{"id":"o-1"}`)
	if out.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("crud: %s %s %s", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
	}
	res := outputOf(t, aws.ToString(out.Output))
	put := res["put"].(map[string]any)
	md, _ := put["SdkHttpMetadata"].(map[string]any)
	if md == nil || md["HttpStatusCode"] != float64(200) || put["SdkResponseMetadata"].(map[string]any)["RequestId"] == "" {
		t.Fatalf("putItem output has no SDK metadata: %v", put)
	}
	if got := res["update"].(map[string]any)["Attributes"]; !jsonEq(got, `{"qty":{"N":"5"}}`) {
		t.Fatalf("updateItem Attributes %v", got)
	}
	item := res["get"].(map[string]any)["Item"]
	if !jsonEq(item, `{"id":{"S":"o-1"},"qty":{"N":"5"},"tags":{"SS":["a","b"]},"ok":{"BOOL":true}}`) {
		t.Fatalf("getItem Item %v", item)
	}
	if got := res["delete"].(map[string]any)["Attributes"]; !jsonEq(got, `{"id":{"S":"o-1"},"qty":{"N":"5"},"tags":{"SS":["a","b"]},"ok":{"BOOL":true}}`) {
		t.Fatalf("deleteItem Attributes %v", got)
	}

	// The item is gone: a conditional update now fails with DynamoDB's error name,
	// which Catch matches.
	_, out = run(t, c, "conditional", `{"StartAt":"U","States":{
		"U":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:updateItem",
			"Parameters":{"TableName":"orders","Key":{"id":{"S":"o-1"}},"UpdateExpression":"SET qty = :n",
				"ConditionExpression":"attribute_exists(id)","ExpressionAttributeValues":{":n":{"N":"1"}}},
			"Catch":[{"ErrorEquals":["DynamoDB.ConditionalCheckFailedException"],"Next":"Caught"}],"End":true},
		"Caught":{"Type":"Pass","End":true}}}`, `{}`)
	caught := outputOf(t, aws.ToString(out.Output))
	if out.Status != types.ExecutionStatusSucceeded || caught["Error"] != "DynamoDB.ConditionalCheckFailedException" ||
		!strings.Contains(caught["Cause"].(string), "(Service: AmazonDynamoDBv2; Status Code: 400; Error Code: ConditionalCheckFailedException; Request ID: ") {
		t.Fatalf("conditional: %s %s", out.Status, aws.ToString(out.Output))
	}

	// aws-sdk errors are <Service>.<Code>Exception in Java SDK v2's words.
	_, out = run(t, c, "missing", `{"StartAt":"G","States":{"G":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:dynamodb:getItem",
		"Parameters":{"TableName":"nope","Key":{"id":{"S":"x"}}},"End":true}}}`, `{}`)
	if out.Status != types.ExecutionStatusFailed || aws.ToString(out.Error) != "DynamoDb.ResourceNotFoundException" ||
		!strings.Contains(aws.ToString(out.Cause), "(Service: DynamoDb, Status Code: 400, Request ID: ") {
		t.Fatalf("missing table: %s %s %s", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
	}

	// Parameters that do not fit the API fail the task without a call.
	_, out = run(t, c, "badparam", `{"StartAt":"G","States":{"G":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:getItem",
		"Parameters":{"TableName":"orders","Key":{"id":{"Q":"x"}}},"End":true}}}`, `{}`)
	if out.Status != types.ExecutionStatusFailed || aws.ToString(out.Error) != "States.Runtime" ||
		!strings.Contains(aws.ToString(out.Cause), "Key.id") {
		t.Fatalf("bad parameter: %s %s %s", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
	}

	// An optimized action AWS does not offer (query is aws-sdk only) and a service
	// sfnd does not call fail naming what is missing.
	for resource, want := range map[string]string{
		"arn:aws:states:::dynamodb:query":            "the dynamodb integration serves",
		"arn:aws:states:::aws-sdk:route53:listZones": "no integration serves the resource type 'aws-sdk:route53'",
	} {
		_, out = run(t, c, "unsupported-"+strconv.Itoa(len(resource)), `{"StartAt":"G","States":{"G":{"Type":"Task","Resource":"`+resource+`",
			"Parameters":{"TableName":"orders"},"End":true}}}`, `{}`)
		if out.Status != types.ExecutionStatusFailed || aws.ToString(out.Error) != "States.Runtime" ||
			!strings.Contains(aws.ToString(out.Cause), want) {
			t.Fatalf("%s: %s %s %s", resource, out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
		}
	}
}

func jsonEq(v any, want string) bool {
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		panic(err)
	}
	a, _ := json.Marshal(v)
	b, _ := json.Marshal(w)
	return string(a) == string(b)
}
