package integrations

import (
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sfnd/sfnd/test/testutil"
)

// TestKinesis: aws-sdk:kinesis against kinesalite (a Kinesis implementation from npm):
// a stream created, a record put (Data travels base64-encoded) and read back.
func TestKinesis(t *testing.T) {
	bin := testutil.NPMPackage(t, "kinesalite", "3.3.3", "kinesalite")
	port := testutil.FreePort(t)
	testutil.RunServer(t, port, t.TempDir(), "node", bin, "--port", strconv.Itoa(port), "--createStreamMs", "0")
	a := testutil.Start(t, testutil.Options{Endpoints: map[string]string{"kinesis": "http://127.0.0.1:" + strconv.Itoa(port)}})
	c := client(a)
	_, out := run(t, c, "kinesis", `{"StartAt":"Create","States":{
		"Create":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:kinesis:createStream","Parameters":{"StreamName":"events","ShardCount":1},
			"ResultPath":null,"Next":"Put"},
		"Put":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:kinesis:putRecord",
			"Parameters":{"StreamName":"events","PartitionKey":"k","Data":"aGVsbG8="},"ResultPath":"$.put","Next":"Iterator"},
		"Iterator":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:kinesis:getShardIterator",
			"Parameters":{"StreamName":"events","ShardId.$":"$.put.ShardId","ShardIteratorType":"TRIM_HORIZON"},"ResultPath":"$.it","Next":"Get"},
		"Get":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:kinesis:getRecords","Parameters":{"ShardIterator.$":"$.it.ShardIterator"},
			"ResultSelector":{"Data.$":"$.Records[0].Data","Key.$":"$.Records[0].PartitionKey"},"End":true}}}`, `{}`)
	if out.Status != types.ExecutionStatusSucceeded || aws.ToString(out.Output) != `{"Data":"aGVsbG8=","Key":"k"}` {
		t.Fatal(failed(t, out), aws.ToString(out.Output))
	}
}
