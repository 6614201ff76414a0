package fuzz

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/sfnd/sfnd/test/testutil"
)

// FuzzAPIRequest sends any body to any Step Functions operation (the operation is the
// fuzzed byte op, modulo the model's operations in name order) of a real node and
// checks the answer: a success, or a documented 4xx error of that operation (never a
// 5xx, never an undocumented code), within 5 s. The seeds are, for every operation,
// a plausible body, a malformed one and an empty object. Bodies may be valid, so
// unlike TestMalformedRequests the store may change.
func FuzzAPIRequest(f *testing.F) {
	raw, err := os.ReadFile("../conformance/botocore_sfn_model.json")
	if err != nil {
		f.Fatal(err)
	}
	var m model
	if err := json.Unmarshal(raw, &m); err != nil {
		f.Fatal(err)
	}
	ops := make([]string, 0, len(m.Operations))
	for op := range m.Operations {
		ops = append(ops, op)
	}
	slices.Sort(ops)
	rng := rand.New(rand.NewPCG(1, 2))
	for i, op := range ops {
		in := m.Shapes[m.Operations[op].Input.Shape]
		plausible := map[string]any{}
		for name, mem := range in.Members {
			plausible[name] = value(rng, &m, mem.Shape, 0)
		}
		b, _ := json.Marshal(plausible)
		f.Add(uint8(i), b)
		bad, _ := malformed(rng, &m, m.Operations[op].Input.Shape)
		if len(bad) < 4096 {
			f.Add(uint8(i), bad)
		}
		f.Add(uint8(i), []byte(`{}`))
	}
	a := testutil.Start(f, testutil.Options{})
	seedState(f, a)
	client := &http.Client{Timeout: 10 * time.Second}
	f.Fuzz(func(t *testing.T, opIndex uint8, body []byte) {
		op := ops[int(opIndex)%len(ops)]
		req, _ := http.NewRequest(http.MethodPost, a.Endpoint()+"/", bytes.NewReader(body))
		req.Header.Set("X-Amz-Target", "AWSStepFunctions."+op)
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %q: %v", op, abbrev(body), err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		took := time.Since(start)
		if took > 5*time.Second {
			t.Fatalf("%s %s: %v", op, abbrev(body), took)
		}
		if resp.StatusCode == http.StatusOK {
			return
		}
		var e struct {
			Type string `json:"__type"`
		}
		_ = json.Unmarshal(b, &e)
		allowed := slices.Clone(common)
		for _, d := range m.Operations[op].Errors {
			allowed = append(allowed, d.Shape)
		}
		if (resp.StatusCode != 400 && resp.StatusCode != 413) || !slices.Contains(allowed, e.Type) {
			t.Fatalf("%s %s -> %d %s", op, abbrev(body), resp.StatusCode, b)
		}
	})
}
