package integrations

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sfnd/sfnd/test/testutil"
)

// goaws starts goaws (github.com/Admiral-Piett/goaws, a Go server speaking SNS's query
// protocol, built from the module) and returns its endpoint.
func goaws(t *testing.T) string {
	t.Helper()
	bin := testutil.GoTool(t, "github.com/Admiral-Piett/goaws/app/cmd", "v0.4.5")
	port := testutil.FreePort(t)
	dir := t.TempDir()
	conf := "Local:\n  Host: 127.0.0.1\n  Port: " + strconv.Itoa(port) + "\n  Region: us-east-1\n  AccountId: \"123456789012\"\n  LogToFile: false\n"
	if err := os.WriteFile(filepath.Join(dir, "goaws.yaml"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	testutil.RunServer(t, port, dir, bin, "-config", filepath.Join(dir, "goaws.yaml"), "Local")
	return "http://127.0.0.1:" + strconv.Itoa(port)
}

// TestSNS: aws-sdk:sns:createTopic and the optimized sns:publish against goaws — a
// topic really created, a message really published (a JSON Message sent as its text),
// the output with SNS's MessageId and the SDK metadata.
func TestSNS(t *testing.T) {
	a := testutil.Start(t, testutil.Options{Endpoints: map[string]string{"sns": goaws(t)}})
	c := client(a)
	_, out := run(t, c, "publish", `{"StartAt":"Create","States":{
		"Create":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:sns:createTopic","Parameters":{"Name":"orders"},
			"ResultPath":"$.topic","Next":"Publish"},
		"Publish":{"Type":"Task","Resource":"arn:aws:states:::sns:publish",
			"Parameters":{"TopicArn.$":"$.topic.TopicArn","Message":{"order.$":"$.id"},"Subject":"new order"},
			"ResultPath":"$.published","Next":"List"},
		"List":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:sns:listTopics","Parameters":{},"ResultPath":"$.topics","End":true}}}`, `{"id":"o-1"}`)
	if out.Status != types.ExecutionStatusSucceeded {
		t.Fatal(failed(t, out))
	}
	res := outputOf(t, aws.ToString(out.Output))
	topic := res["topic"].(map[string]any)["TopicArn"].(string)
	if !strings.HasSuffix(topic, ":orders") {
		t.Fatalf("createTopic output %v", res["topic"])
	}
	pub := res["published"].(map[string]any)
	if id, _ := pub["MessageId"].(string); id == "" || pub["SdkHttpMetadata"] == nil {
		t.Fatalf("publish output %v", pub)
	}
	if !strings.Contains(mustJSON(res["topics"]), topic) {
		t.Fatalf("listTopics output %v", res["topics"])
	}
}
