// Package fuzz sends malformed requests to a real node and checks that each gets a
// documented client error, quickly, and changes nothing.
package fuzz

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfnd/sfnd/cmd/sfnd/app"
	"github.com/sfnd/sfnd/test/testutil"
)

// model is the part of the botocore Step Functions model the generator needs.
type model struct {
	Operations map[string]struct {
		Input  struct{ Shape string }
		Errors []struct{ Shape string }
	}
	Shapes map[string]shape
}

type shape struct {
	Type     string
	Required []string
	Members  map[string]struct{ Shape string }
	Member   struct{ Shape string }
	Min, Max *float64
}

// common are the errors every operation may answer besides its documented ones.
var common = []string{"ValidationException", "SerializationException", "RequestEntityTooLargeException", "UnknownOperationException", "InvalidArn"}

// TestMalformedRequests sends 10,000 seeded malformed requests (missing members,
// wrong types, huge and deeply nested bodies, bad ARNs, invalid UTF-8, garbage) across
// every Step Functions operation and asserts: only documented 4xx answers, no 5xx, no
// request slower than 5 s, and no stream or bucket of the store changed.
func TestMalformedRequests(t *testing.T) {
	raw, err := os.ReadFile("../conformance/botocore_sfn_model.json")
	if err != nil {
		t.Fatal(err)
	}
	var m model
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	a := testutil.Start(t, testutil.Options{})
	seedState(t, a)
	before := storeState(t, a)

	n := 10000
	if testing.Short() {
		n = 1000
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("SFND_FUZZ_SEED"); s != "" {
		fmt.Sscan(s, &seed)
	}
	t.Logf("seed %d (SFND_FUZZ_SEED replays it)", seed)
	ops := make([]string, 0, len(m.Operations))
	for op := range m.Operations {
		ops = append(ops, op)
	}
	slices.Sort(ops)

	type result struct {
		op, defect, body string
		status           int
		code             string
		took             time.Duration
	}
	results := make(chan result, 64)
	var wg sync.WaitGroup
	const workers = 8
	client := &http.Client{Timeout: 10 * time.Second}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			for i := w; i < n; i += workers {
				op := ops[rng.IntN(len(ops))]
				body, defect := malformed(rng, &m, m.Operations[op].Input.Shape)
				req, _ := http.NewRequest(http.MethodPost, a.Endpoint()+"/", bytes.NewReader(body))
				req.Header.Set("X-Amz-Target", "AWSStepFunctions."+op)
				req.Header.Set("Content-Type", "application/x-amz-json-1.0")
				start := time.Now()
				resp, err := client.Do(req)
				r := result{op: op, defect: defect, body: abbrev(body), took: time.Since(start)}
				if err != nil {
					r.status, r.code = -1, err.Error()
				} else {
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					r.status = resp.StatusCode
					var e struct {
						Type string `json:"__type"`
					}
					_ = json.Unmarshal(b, &e)
					r.code = e.Type
				}
				results <- r
			}
		}()
	}
	go func() { wg.Wait(); close(results) }()
	counts := map[string]int{}
	var slowest time.Duration
	failures := 0
	for r := range results {
		counts[fmt.Sprintf("%d %s", r.status, r.code)]++
		slowest = max(slowest, r.took)
		allowed := slices.Clone(common)
		for _, e := range m.Operations[r.op].Errors {
			allowed = append(allowed, e.Shape)
		}
		bad := ""
		switch {
		case r.status != 400 && r.status != 413:
			bad = "status"
		case !slices.Contains(allowed, r.code):
			bad = "undocumented code"
		case r.took > 5*time.Second:
			bad = "slow"
		}
		if bad != "" {
			failures++
			if failures <= 10 {
				t.Errorf("%s: %s (%s) -> %d %s in %v: %s", bad, r.op, r.defect, r.status, r.code, r.took, r.body)
			}
		}
	}
	t.Logf("%d requests, slowest %v, answers %v", n, slowest, counts)
	if failures > 0 {
		t.Fatalf("%d of %d malformed requests got a wrong answer", failures, n)
	}
	if after := storeState(t, a); after != before {
		t.Fatalf("malformed requests changed the store:\nbefore %s\nafter  %s", before, after)
	}
}

func abbrev(b []byte) string {
	if len(b) > 200 {
		return fmt.Sprintf("%q... (%d bytes)", b[:200], len(b))
	}
	return fmt.Sprintf("%q", b)
}

// seedState creates a state machine, an activity, a finished execution and executions
// waiting on the activity's tasks, so that ARNs of real resources can be hit too.
func seedState(t testing.TB, a *app.App) {
	c := testutil.Client(a.Endpoint())
	sm := testutil.CreateStateMachine(t, c, "seeded", `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`)
	ex := testutil.StartExecution(t, c, sm, `{}`)
	testutil.WaitDone(t, c, ex, 10*time.Second)
	raw := `{"name":"seeded-activity"}`
	req, _ := http.NewRequest(http.MethodPost, a.Endpoint()+"/", strings.NewReader(raw))
	req.Header.Set("X-Amz-Target", "AWSStepFunctions.CreateActivity")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("create activity: %v %v", err, resp)
	}
	resp.Body.Close()
	// Tasks queued on the activity: a valid GetActivityTask (a plausible seed may be
	// one) is answered at once, as every request here must be, instead of holding the
	// poll for its 60 s.
	worker := testutil.CreateStateMachine(t, c, "seeded-worker",
		`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:us-east-1:123456789012:activity:seeded-activity","End":true}}}`)
	var arns []string
	for range seededTasks {
		arns = append(arns, testutil.StartExecution(t, c, worker, `{}`))
	}
	for _, arn := range arns {
		for deadline := time.Now().Add(10 * time.Second); !strings.Contains(testutil.HistoryTypes(t, c, arn), "ActivityScheduled"); {
			if time.Now().After(deadline) {
				t.Fatalf("%s: no activity task scheduled", arn)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	time.Sleep(200 * time.Millisecond) // projections settle, tasks queued
}

// seededTasks is how many activity tasks seedState queues.
const seededTasks = 16

// storeState is the last sequence of every stream of the store (streams, KV buckets).
func storeState(t *testing.T, a *app.App) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []string
	lister := a.Store.JS.ListStreams(ctx)
	for info := range lister.Info() {
		if info.Config.Name == "KV_sfn_nodes" {
			// The node's own liveness record, rewritten every second by the cluster
			// membership (cmd/sfnd/app/cluster.go), whatever the requests are.
			continue
		}
		out = append(out, fmt.Sprintf("%s=%d", info.Config.Name, info.State.LastSeq))
	}
	if err := lister.Err(); err != nil && err != jetstream.ErrEndOfData {
		t.Fatal(err)
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

var badARNs = []string{
	"", "arn", "arn:aws:states", "arn:aws:states:us-east-1:123456789012:stateMachine:",
	"arn:aws:states:us-east-1:123456789012:stateMachine:seeded:::::", "arn:aws:states:zz-evil-9:123456789012:stateMachine:seeded",
	"arn:aws:lambda:us-east-1:123456789012:function:f", "arn:aws:states:us-east-1:123456789012:activity:nope",
	"arn:aws:states:us-east-1:123456789012:execution:seeded:nope", strings.Repeat("arn:", 5000),
	"arn:aws:states:us-east-1:123456789012:stateMachine:seeded\xff",
}

// malformed returns a request body for the input shape with at least one defect that
// makes it invalid, and the name of that defect.
func malformed(rng *rand.Rand, m *model, input string) ([]byte, string) {
	in := m.Shapes[input]
	switch k := rng.IntN(100); {
	case k < 2:
		return bytes.Repeat([]byte("a"), 2<<20+rng.IntN(1000)), "huge body"
	case k < 5:
		d := 1000 + rng.IntN(200000)
		return []byte(strings.Repeat("[", d) + strings.Repeat("]", d)), "deep nesting"
	case k < 8:
		d := 10001 + rng.IntN(100000) // deeper than any JSON decoder accepts
		return []byte(strings.Repeat(`{"a":`, d) + "1" + strings.Repeat("}", d)), "deep objects"
	case k < 12:
		// At least one byte that is not JSON whitespace: an empty (or blank) body is a
		// well-formed request to an operation without required members (ListActivities
		// answered it 200, and the test failed about once in 300 of these).
		b := make([]byte, 1+rng.IntN(300))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		if len(bytes.TrimLeft(b, " \t\r\n")) == 0 {
			b[0] = 'x'
		}
		return b, "random bytes"
	case k < 15:
		return []byte(`{"x":"` + "\xc3\x28" + `"}`), "invalid UTF-8"
	}
	body := map[string]any{}
	for name, mem := range in.Members {
		if rng.IntN(2) == 0 || slices.Contains(in.Required, name) {
			body[name] = value(rng, m, mem.Shape, 0)
		}
	}
	var defects []string
	// One defect that makes the request invalid for sure...
	names := make([]string, 0, len(in.Members))
	for name := range in.Members {
		names = append(names, name)
	}
	slices.Sort(names)
	var sure string
	switch {
	case len(in.Required) > 0 && rng.IntN(3) > 0:
		sure = in.Required[rng.IntN(len(in.Required))]
		delete(body, sure)
		defects = append(defects, "missing "+sure)
	case len(names) > 0:
		sure = names[rng.IntN(len(names))]
		body[sure] = wrongType(rng, m.Shapes[in.Members[sure].Shape].Type)
		defects = append(defects, "wrong type "+sure)
	default:
		return []byte(`{"unterminated": `), "syntax"
	}
	// ...and perhaps more, on other members.
	for range rng.IntN(3) {
		name := names[rng.IntN(len(names))]
		if name == sure {
			continue
		}
		switch rng.IntN(3) {
		case 0:
			body[name] = badARNs[rng.IntN(len(badARNs))]
			defects = append(defects, "bad value "+name)
		case 1:
			body[name] = strings.Repeat("x", 1+rng.IntN(300000))
			defects = append(defects, "long "+name)
		case 2:
			body[name] = wrongType(rng, m.Shapes[in.Members[name].Shape].Type)
			defects = append(defects, "wrong type "+name)
		}
	}
	b, _ := json.Marshal(body)
	return b, strings.Join(defects, ", ")
}

// value is a plausible value of a shape (often a real ARN or name, sometimes not).
func value(rng *rand.Rand, m *model, name string, depth int) any {
	s := m.Shapes[name]
	switch s.Type {
	case "string":
		switch rng.IntN(4) {
		case 0:
			return "arn:aws:states:us-east-1:123456789012:stateMachine:seeded"
		case 1:
			return "arn:aws:states:us-east-1:123456789012:activity:seeded-activity"
		case 2:
			return badARNs[rng.IntN(len(badARNs))]
		}
		return fmt.Sprintf("v%d", rng.IntN(1000))
	case "integer", "long":
		return rng.IntN(2000) - 500
	case "boolean":
		return rng.IntN(2) == 0
	case "timestamp":
		return rng.IntN(2e9)
	case "list":
		if depth > 3 {
			return []any{}
		}
		out := []any{}
		for range rng.IntN(3) {
			out = append(out, value(rng, m, s.Member.Shape, depth+1))
		}
		return out
	case "structure":
		out := map[string]any{}
		if depth > 3 {
			return out
		}
		for mn, mem := range s.Members {
			if rng.IntN(2) == 0 {
				out[mn] = value(rng, m, mem.Shape, depth+1)
			}
		}
		return out
	case "map":
		return map[string]any{"k": "v"}
	}
	return nil
}

// wrongType is a JSON value that is not of the model type.
func wrongType(rng *rand.Rand, typ string) any {
	options := map[string][]any{
		"string":    {12, true, []any{"x"}, map[string]any{"a": 1}, 1.5},
		"integer":   {"12", true, []any{1}, map[string]any{}, 1.5},
		"long":      {"12", false, []any{}, map[string]any{}},
		"boolean":   {"true", 1, []any{}, map[string]any{}},
		"timestamp": {true, []any{}, map[string]any{}},
		"list":      {"x", 1, true, map[string]any{"a": 1}},
		"structure": {"x", 1, true, []any{1}},
		"map":       {"x", 1, true, []any{1}},
	}[typ]
	if len(options) == 0 {
		return []any{map[string]any{"x": []any{}}}
	}
	return options[rng.IntN(len(options))]
}
