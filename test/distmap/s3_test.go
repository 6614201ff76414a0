package distmap

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sfnd/sfnd/actors/objects"
	"github.com/sfnd/sfnd/test/testutil"
	"github.com/sfnd/sfnd/test/testutil/versitygw"
)

// s3Backend is a node whose s3:// objects live somewhere, with bucket "data".
type s3Backend struct {
	c   *sfn.Client
	obj *objects.Store // the same objects, for the test to put and get
}

// backends runs body against a node on a local root and against a node on versitygw.
func backends(t *testing.T, body func(t *testing.T, b s3Backend)) {
	t.Run("local", func(t *testing.T) {
		root := t.TempDir()
		if err := os.Mkdir(filepath.Join(root, "data"), 0o755); err != nil {
			t.Fatal(err)
		}
		a := testutil.Start(t, testutil.Options{S3LocalRoot: root})
		obj, err := objects.New(ctx, objects.Config{LocalRoot: root})
		if err != nil {
			t.Fatal(err)
		}
		body(t, s3Backend{c: testutil.Client(a.Endpoint()), obj: obj})
	})
	t.Run("versitygw", func(t *testing.T) {
		if testing.Short() {
			t.Skip("-short: no S3 server")
		}
		g := versitygw.Start(t)
		g.MakeBucket(t, "data")
		// The node signs with the SDK's default chain: the environment.
		t.Setenv("AWS_ACCESS_KEY_ID", versitygw.AccessKey)
		t.Setenv("AWS_SECRET_ACCESS_KEY", versitygw.SecretKey)
		a := testutil.Start(t, testutil.Options{S3Endpoint: g.Endpoint})
		obj, err := objects.New(ctx, objects.Config{Endpoint: g.Endpoint, Region: versitygw.Region,
			Credentials: credentials.NewStaticCredentialsProvider(versitygw.AccessKey, versitygw.SecretKey, "")})
		if err != nil {
			t.Fatal(err)
		}
		body(t, s3Backend{c: testutil.Client(a.Endpoint()), obj: obj})
	})
}

func (b s3Backend) put(t *testing.T, key, body string) {
	t.Helper()
	if _, err := b.obj.PutObject(ctx, "data", key, []byte(body), ""); err != nil {
		t.Fatal(err)
	}
}

func (b s3Backend) get(t *testing.T, key string) string {
	t.Helper()
	o, err := b.obj.GetObject(ctx, "data", key)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	return string(o.Body)
}

func readerDef(reader, extra string) string {
	return mapDef(`"ItemReader":`+reader+`,`+extra, "")
}

func TestItemReader(t *testing.T) {
	backends(t, func(t *testing.T, b s3Backend) {
		b.put(t, "in/items.json", `[{"a":1},{"a":2},{"a":3}]`)
		b.put(t, "in/items.jsonl", "{\"a\":1}\n\n{\"a\":2}\n{\"a\":3}\n")
		b.put(t, "in/items.csv", "name,n\nx,1\ny,2\n\"z,z\",3\n")
		b.put(t, "in/items.psv", "x|1\ny|2\n")
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		_, _ = zw.Write([]byte("data,inv/a.txt,10\ndata,inv/b.txt,20\n"))
		_ = zw.Close()
		if _, err := b.obj.PutObject(ctx, "data", "inventory/data/1.csv.gz", gz.Bytes(), ""); err != nil {
			t.Fatal(err)
		}
		b.put(t, "inventory/manifest.json", `{"sourceBucket":"data","destinationBucket":"arn:aws:s3:::data","fileFormat":"CSV","fileSchema":"Bucket, Key, Size","files":[{"key":"inventory/data/1.csv.gz","size":50}]}`)

		cases := []struct {
			name, reader, input, want string
		}{
			{"JSON", `{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON"},"Parameters":{"Bucket":"data","Key.$":"$.key"}}`,
				`{"key":"in/items.json"}`, `[{"a":1},{"a":2},{"a":3}]`},
			{"JSON MaxItems", `{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON","MaxItems":2},"Parameters":{"Bucket":"data","Key":"in/items.json"}}`,
				`{}`, `[{"a":1},{"a":2}]`},
			{"JSON MaxItemsPath", `{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON","MaxItemsPath":"$.max"},"Parameters":{"Bucket":"data","Key":"in/items.json"}}`,
				`{"max":1}`, `[{"a":1}]`},
			{"JSONL", `{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSONL"},"Parameters":{"Bucket":"data","Key":"in/items.jsonl"}}`,
				`{}`, `[{"a":1},{"a":2},{"a":3}]`},
			{"CSV first row", `{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"CSV","CSVHeaderLocation":"FIRST_ROW"},"Parameters":{"Bucket":"data","Key":"in/items.csv"}}`,
				`{}`, `[{"name":"x","n":"1"},{"name":"y","n":"2"},{"name":"z,z","n":"3"}]`},
			{"CSV given, pipe", `{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"CSV","CSVHeaderLocation":"GIVEN","CSVHeaders":["k","v"],"CSVDelimiter":"PIPE"},"Parameters":{"Bucket":"data","Key":"in/items.psv"}}`,
				`{}`, `[{"k":"x","v":"1"},{"k":"y","v":"2"}]`},
			{"MANIFEST", `{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"MANIFEST"},"Parameters":{"Bucket":"data","Key":"inventory/manifest.json"}}`,
				`{}`, `[{"Bucket":"data","Key":"inv/a.txt","Size":"10"},{"Bucket":"data","Key":"inv/b.txt","Size":"20"}]`},
		}
		for _, tc := range cases {
			d, exec := run(t, b.c, readerDef(tc.reader, ""), tc.input)
			if d.Status != types.ExecutionStatusSucceeded || compact(aws.ToString(d.Output)) != tc.want {
				t.Errorf("%s: %s %s (%s %s), want %s", tc.name, d.Status, aws.ToString(d.Output), aws.ToString(d.Error), aws.ToString(d.Cause), tc.want)
				continue
			}
			wantTypes(t, b.c, exec, "1:ExecutionStarted<0 2:MapStateEntered<0 3:MapStateStarted<2 4:MapRunStarted<3 5:MapRunSucceeded<4 6:MapStateSucceeded<5 7:MapStateExited<4 8:ExecutionSucceeded<7")
		}

		// A JSONata Map reads with Arguments.
		d, _ := run(t, b.c, `{"QueryLanguage":"JSONata","StartAt":"M","States":{"M":{"Type":"Map","ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSONL"},"Arguments":{"Bucket":"data","Key":"{% $states.input.key %}"}},`+
			`"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`, `{"key":"in/items.jsonl"}`)
		if d.Status != types.ExecutionStatusSucceeded || compact(aws.ToString(d.Output)) != `[{"a":1},{"a":2},{"a":3}]` {
			t.Errorf("JSONata reader: %s %s %s", d.Status, aws.ToString(d.Output), aws.ToString(d.Cause))
		}

		// listObjectsV2: the objects as items.
		d, _ = run(t, b.c, readerDef(`{"Resource":"arn:aws:states:::s3:listObjectsV2","Parameters":{"Bucket":"data","Prefix":"in/items.js"}}`, ""), `{}`)
		var objs []map[string]any
		if err := json.Unmarshal([]byte(aws.ToString(d.Output)), &objs); err != nil || len(objs) != 2 {
			t.Fatalf("listObjectsV2: %s %v (%s)", aws.ToString(d.Output), err, aws.ToString(d.Cause))
		}
		if objs[0]["Key"] != "in/items.json" || objs[1]["Key"] != "in/items.jsonl" || objs[0]["Size"].(float64) != 25 ||
			!strings.HasPrefix(objs[0]["Etag"].(string), `"`) || objs[0]["StorageClass"] != "STANDARD" || objs[0]["LastModified"].(float64) < 1e9 {
			t.Errorf("listObjectsV2 items %v", objs)
		}

		// Failures: a missing object, an object that is not an array.
		d, _ = run(t, b.c, readerDef(`{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON"},"Parameters":{"Bucket":"data","Key":"nothing.json"}}`, ""), `{}`)
		if d.Status != types.ExecutionStatusFailed || aws.ToString(d.Error) != "States.ItemReaderFailed" || !strings.Contains(aws.ToString(d.Cause), "NoSuchKey") {
			t.Errorf("missing object: %s %s %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
		}
		b.put(t, "in/object.json", `{"a":1}`)
		d, exec := run(t, b.c, readerDef(`{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON"},"Parameters":{"Bucket":"data","Key":"in/object.json"}}`, ""), `{}`)
		if d.Status != types.ExecutionStatusFailed || aws.ToString(d.Error) != "States.ItemReaderFailed" {
			t.Errorf("not an array: %s %s %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
		}
		wantTypes(t, b.c, exec, "1:ExecutionStarted<0 2:MapStateEntered<0 3:MapStateFailed<2 4:ExecutionFailed<3")
	})
}

func TestResultWriter(t *testing.T) {
	backends(t, func(t *testing.T, b s3Backend) {
		proc := `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$","NumericEquals":3,"Next":"F"}],"Default":"P"},"P":{"Type":"Pass","End":true},"F":{"Type":"Fail","Error":"Bad","Cause":"three"}}}`
		def := mapDef(`"ToleratedFailureCount":1,"ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket":"data","Prefix":"out"}},`, proc)
		d, exec := run(t, b.c, def, `[1,2,3]`)
		if d.Status != types.ExecutionStatusSucceeded {
			t.Fatalf("%s %s %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
		}
		mr := mapRunOf(t, b.c, exec)
		id := mr[strings.LastIndexByte(mr, ':')+1:]
		want := fmt.Sprintf(`{"MapRunArn":%q,"ResultWriterDetails":{"Bucket":"data","Key":"out/%s/manifest.json"}}`, mr, id)
		if compact(aws.ToString(d.Output)) != want {
			t.Fatalf("output %s, want %s", aws.ToString(d.Output), want)
		}
		var manifest struct {
			DestinationBucket string
			MapRunArn         string
			ResultFiles       map[string][]struct {
				Key  string
				Size int
			}
		}
		if err := json.Unmarshal([]byte(b.get(t, "out/"+id+"/manifest.json")), &manifest); err != nil {
			t.Fatal(err)
		}
		if manifest.DestinationBucket != "data" || manifest.MapRunArn != mr || len(manifest.ResultFiles["SUCCEEDED"]) != 1 ||
			len(manifest.ResultFiles["FAILED"]) != 1 || len(manifest.ResultFiles["PENDING"]) != 0 {
			t.Fatalf("manifest %+v", manifest)
		}
		var succeeded, failed []map[string]any
		sf := manifest.ResultFiles["SUCCEEDED"][0]
		if sf.Key != "out/"+id+"/SUCCEEDED_0.json" {
			t.Errorf("succeeded file %s", sf.Key)
		}
		body := b.get(t, sf.Key)
		if len(body) != sf.Size {
			t.Errorf("size %d, manifest says %d", len(body), sf.Size)
		}
		_ = json.Unmarshal([]byte(body), &succeeded)
		_ = json.Unmarshal([]byte(b.get(t, manifest.ResultFiles["FAILED"][0].Key)), &failed)
		if len(succeeded) != 2 || len(failed) != 1 {
			t.Fatalf("results: %d succeeded, %d failed", len(succeeded), len(failed))
		}
		s0, f0 := succeeded[0], failed[0]
		if s0["Status"] != "SUCCEEDED" || s0["Output"] != "1" || s0["Input"] != "1" || !strings.Contains(s0["ExecutionArn"].(string), ":execution:") ||
			s0["StartDate"] == nil || s0["StopDate"] == nil || s0["Name"] == nil {
			t.Errorf("succeeded entry %v", s0)
		}
		if f0["Status"] != "FAILED" || f0["Error"] != "Bad" || f0["Cause"] != "three" || f0["Input"] != "3" {
			t.Errorf("failed entry %v", f0)
		}
		dm, _ := b.c.DescribeMapRun(ctx, &sfn.DescribeMapRunInput{MapRunArn: aws.String(mr)})
		if dm.ItemCounts.ResultsWritten != 3 {
			t.Errorf("resultsWritten %d", dm.ItemCounts.ResultsWritten)
		}

		// WriterConfig without S3: COMPACT and FLATTEN results are the Map's output.
		d, _ = run(t, b.c, mapDef(`"ItemBatcher":{"MaxItemsPerBatch":2},"ResultWriter":{"WriterConfig":{"OutputType":"JSON","Transformation":"COMPACT"}},`,
			`{"StartAt":"P","States":{"P":{"Type":"Pass","OutputPath":"$.Items","End":true}}}`), `[1,2,3]`)
		if compact(aws.ToString(d.Output)) != `[[1,2],[3]]` {
			t.Errorf("COMPACT: %s (%s)", aws.ToString(d.Output), aws.ToString(d.Cause))
		}
		d, _ = run(t, b.c, mapDef(`"ItemBatcher":{"MaxItemsPerBatch":2},"ResultWriter":{"WriterConfig":{"OutputType":"JSON","Transformation":"FLATTEN"}},`,
			`{"StartAt":"P","States":{"P":{"Type":"Pass","OutputPath":"$.Items","End":true}}}`), `[1,2,3]`)
		if compact(aws.ToString(d.Output)) != `[1,2,3]` {
			t.Errorf("FLATTEN: %s (%s)", aws.ToString(d.Output), aws.ToString(d.Cause))
		}
		// JSONL files.
		d, exec = run(t, b.c, mapDef(`"ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket":"data","Prefix":"jl"},"WriterConfig":{"OutputType":"JSONL","Transformation":"COMPACT"}},`, ""), `[{"x":1},{"x":2}]`)
		if d.Status != types.ExecutionStatusSucceeded {
			t.Fatalf("JSONL: %s %s", d.Status, aws.ToString(d.Cause))
		}
		mr = mapRunOf(t, b.c, exec)
		id = mr[strings.LastIndexByte(mr, ':')+1:]
		if got := b.get(t, "jl/"+id+"/SUCCEEDED_0.jsonl"); got != "{\"x\":1}\n{\"x\":2}\n" {
			t.Errorf("JSONL file %q", got)
		}
		// A missing bucket fails the run with States.ResultWriterFailed.
		d, _ = run(t, b.c, mapDef(`"ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket":"no-such-bucket","Prefix":"x"}},`, ""), `[1]`)
		if d.Status != types.ExecutionStatusFailed || aws.ToString(d.Error) != "States.ResultWriterFailed" {
			t.Errorf("missing bucket: %s %s %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
		}
	})
}
