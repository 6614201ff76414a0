package actors

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/sfnd/sfnd/actors/asl"
	"github.com/sfnd/sfnd/actors/asl/expr"
	"github.com/sfnd/sfnd/events"
)

// ResultWriter: the children's results as AWS writes them. With a Resource
// (arn:aws:states:::s3:putObject) the files go to Bucket under
// "<Prefix>/<map run id>/": SUCCEEDED_0.json, FAILED_0.json and PENDING_0.json (one
// entry per child execution: ExecutionArn, Input, Name, Output or Error/Cause, dates,
// Status, ...) and manifest.json naming them; the Map state's result is then
// {"MapRunArn", "ResultWriterDetails": {"Bucket", "Key": <manifest>}}. WriterConfig's
// Transformation COMPACT keeps only each child's output (FLATTEN also splices arrays),
// OutputType JSONL writes one entry per line. Without a Resource, the transformed
// results are the Map state's result.

// writeResults writes the run's results and returns the Map state's result.
func (r *mapRunner) writeResults(ctx context.Context, w *asl.WriterSpec, status string) (string, error) {
	recs := map[int]events.ExecutionRecord{}
	index := make(map[string]int, len(r.names))
	for i, n := range r.names {
		index[n] = i
	}
	cursor := ""
	for {
		page, next, err := r.m.list(ctx, r.spec.MapRunArn, cursor, 1000)
		if err != nil {
			return "", err
		}
		for _, rec := range page {
			if i, ok := index[rec.Name]; ok {
				recs[i] = rec
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	r.mu.Lock()
	results := make([]*asl.ChildResult, len(r.results))
	copy(results, r.results)
	r.mu.Unlock()
	transform := strings.ToUpper(w.Transformation)
	var succeeded, failed, pending []string
	var written int64
	for i := range r.names {
		res := results[i]
		rec, ok := recs[i]
		if res == nil || !ok {
			if ok {
				pending = append(pending, resultEntry(rec, nil))
			}
			continue
		}
		var entries []string
		switch transform {
		case "COMPACT", "FLATTEN":
			v := res.Output
			if res.Status != "SUCCEEDED" || v == "" {
				o := expr.NewObject(2)
				o.Set("Error", res.Error)
				o.Set("Cause", res.Cause)
				v = expr.Marshal(o)
			}
			entries = []string{v}
			if transform == "FLATTEN" && res.Status == "SUCCEEDED" {
				if pv, err := expr.ParseJSON(v); err == nil {
					if arr, ok := pv.([]any); ok {
						entries = entries[:0]
						for _, e := range arr {
							entries = append(entries, expr.Marshal(e))
						}
					}
				}
			}
		default:
			entries = []string{resultEntry(rec, res)}
		}
		if res.Status == "SUCCEEDED" {
			succeeded = append(succeeded, entries...)
		} else {
			failed = append(failed, entries...)
		}
		written += int64(r.sizes[i])
	}
	jsonl := strings.ToUpper(w.OutputType) == "JSONL"
	if w.Resource == "" {
		// No S3: the (transformed) results are the Map's result, in item order.
		return "[" + strings.Join(append(succeeded, failed...), ",") + "]", nil
	}
	runID := r.spec.MapRunArn[strings.LastIndexByte(r.spec.MapRunArn, ':')+1:]
	dir := runID + "/"
	if w.Prefix != "" {
		dir = strings.TrimSuffix(w.Prefix, "/") + "/" + dir
	}
	ext := ".json"
	if jsonl {
		ext = ".jsonl"
	}
	files := map[string][]map[string]any{"FAILED": {}, "PENDING": {}, "SUCCEEDED": {}}
	for _, part := range []struct {
		name    string
		entries []string
	}{{"SUCCEEDED", succeeded}, {"FAILED", failed}, {"PENDING", pending}} {
		if len(part.entries) == 0 {
			continue
		}
		var body string
		if jsonl {
			body = strings.Join(part.entries, "\n") + "\n"
		} else {
			body = "[" + strings.Join(part.entries, ",") + "]"
		}
		key := dir + part.name + "_0" + ext
		if _, err := r.m.objects.PutObject(ctx, w.Bucket, key, []byte(body), "application/json"); err != nil {
			return "", s3Cause(err)
		}
		files[part.name] = append(files[part.name], map[string]any{"Key": key, "Size": len(body)})
	}
	manifest := struct {
		DestinationBucket string                      `json:"DestinationBucket"`
		MapRunArn         string                      `json:"MapRunArn"`
		ResultFiles       map[string][]map[string]any `json:"ResultFiles"`
	}{w.Bucket, r.spec.MapRunArn, files}
	mb, _ := json.Marshal(manifest)
	mkey := dir + "manifest.json"
	if _, err := r.m.objects.PutObject(ctx, w.Bucket, mkey, mb, "application/json"); err != nil {
		return "", s3Cause(err)
	}
	r.mu.Lock()
	r.rec.Items.ResultsWritten = written
	r.rec.Executions.ResultsWritten = int64(len(succeeded) + len(failed))
	r.mu.Unlock()
	out := expr.NewObject(2)
	out.Set("MapRunArn", r.spec.MapRunArn)
	det := expr.NewObject(2)
	det.Set("Bucket", w.Bucket)
	det.Set("Key", mkey)
	out.Set("ResultWriterDetails", det)
	return expr.Marshal(out), nil
}

// resultEntry is one child execution in a result file (Transformation NONE), as AWS
// writes it: DescribeExecution's fields with the Java SDK's names.
func resultEntry(rec events.ExecutionRecord, res *asl.ChildResult) string {
	var b bytes.Buffer
	b.WriteByte('{')
	if res != nil && res.Status != "SUCCEEDED" {
		b.WriteString(`"Cause":` + JSONString(res.Cause) + `,"Error":` + JSONString(res.Error) + `,`)
	}
	in := ""
	if rec.Start != nil {
		in = rec.Start.Input
	}
	b.WriteString(`"ExecutionArn":` + JSONString(rec.ARN))
	b.WriteString(`,"Input":` + JSONString(in) + `,"InputDetails":{"Included":true}`)
	b.WriteString(`,"Name":` + JSONString(rec.Name))
	if res != nil && res.Status == "SUCCEEDED" {
		b.WriteString(`,"Output":` + JSONString(res.Output) + `,"OutputDetails":{"Included":true}`)
	}
	status := "RUNNING"
	if res != nil {
		status = res.Status
	}
	b.WriteString(`,"RedriveCount":0`)
	if status == "SUCCEEDED" {
		b.WriteString(`,"RedriveStatus":"NOT_REDRIVABLE","RedriveStatusReason":"Execution is SUCCEEDED and cannot be redriven"`)
	}
	b.WriteString(`,"StartDate":` + JSONString(rec.StartDate.UTC().Format("2006-01-02T15:04:05.000Z")))
	b.WriteString(`,"StateMachineArn":` + JSONString(rec.StateMachineARN))
	b.WriteString(`,"Status":` + JSONString(status))
	stop := time.Time{}
	if rec.StopDate != nil {
		stop = *rec.StopDate
	}
	if !stop.IsZero() {
		b.WriteString(`,"StopDate":` + JSONString(stop.UTC().Format("2006-01-02T15:04:05.000Z")))
	}
	b.WriteByte('}')
	return b.String()
}
