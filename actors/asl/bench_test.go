package asl_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sfnd/sfnd/actors/asl"
)

// passChain is a chain of n Pass states, as in `sfnd bench` passchain.
func passChain(n int) string {
	var sb strings.Builder
	sb.WriteString(`{"StartAt":"S1","States":{`)
	for i := 1; i <= n; i++ {
		if i > 1 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `"S%d":{"Type":"Pass","Result":{"step":%d},"ResultPath":"$.last"`, i, i)
		if i == n {
			sb.WriteString(`,"End":true}`)
		} else {
			fmt.Fprintf(&sb, `,"Next":"S%d"}`, i+1)
		}
	}
	sb.WriteString(`}}`)
	return sb.String()
}

// loop runs Inc -> Check k times: a history of 6 + 4k events.
func loop(k int) string {
	return `{"StartAt":"Init","States":{
"Init":{"Type":"Pass","Result":{"i":0},"Next":"Inc"},
"Inc":{"Type":"Pass","Parameters":{"i.$":"States.MathAdd($.i, 1)"},"Next":"Check"},
"Check":{"Type":"Choice","Choices":[{"Variable":"$.i","NumericLessThan":` + strconv.Itoa(k) + `,"Next":"Inc"}],"Default":"Done"},
"Done":{"Type":"Succeed"}}}`
}

func startTrigger() asl.Trigger {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return asl.Trigger{Kind: asl.TriggerStart, Time: now, Seed: 42, Start: &asl.StartInfo{
		Input: `{"i":1}`, ExecutionArn: "arn:aws:states:us-east-1:123456789012:execution:bench:x",
		Name: "x", StateMachineArn: "arn:aws:states:us-east-1:123456789012:stateMachine:bench",
		StateMachineName: "bench", RoleArn: "arn:aws:iam::123456789012:role/r", StartTime: now,
	}}
}

func mustParse(b *testing.B, def string) *asl.StateMachine {
	b.Helper()
	sm, err := asl.Parse(def)
	if err != nil {
		b.Fatal(err)
	}
	return sm
}

// BenchmarkDecidePassChain10 is one decision that runs a whole 10-state Pass chain
// (22 events): the engine's work per passchain execution, minus storage.
func BenchmarkDecidePassChain10(b *testing.B) {
	sm := mustParse(b, passChain(10))
	t := startTrigger()
	b.ReportAllocs()
	for b.Loop() {
		x := asl.NewExecution(sm)
		evs, _, err := asl.Decide(sm, x, t)
		if err != nil || len(evs) != 22 || x.Status() != asl.StatusSucceeded {
			b.Fatalf("decide: %d events, %s, %v", len(evs), x.Status(), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/10, "ns/transition")
}

// BenchmarkRebuild25k folds a 25,000-event history (what an actor does on wake-up,
// after reading it).
func BenchmarkRebuild25k(b *testing.B) {
	sm := mustParse(b, loop(6248))
	x := asl.NewExecution(sm)
	hist, _, err := asl.Decide(sm, x, startTrigger())
	if err != nil || len(hist) != 24998 || x.Status() != asl.StatusSucceeded {
		b.Fatalf("decide: %d events, %s, %v", len(hist), x.Status(), err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if y := asl.Rebuild(sm, hist); y.Status() != asl.StatusSucceeded || y.LastEventID != int64(len(hist)) {
			b.Fatalf("rebuilt %s at %d", y.Status(), y.LastEventID)
		}
	}
}

// BenchmarkParsePassChain10 parses the definition (each new actor does, once).
func BenchmarkParsePassChain10(b *testing.B) {
	def := passChain(10)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := asl.Parse(def); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecideLoop100 is one decision running Inc -> Check 100 times (406 events):
// Parameters with an intrinsic function and a Choice rule per iteration.
func BenchmarkDecideLoop100(b *testing.B) {
	sm := mustParse(b, loop(100))
	t := startTrigger()
	b.ReportAllocs()
	for b.Loop() {
		x := asl.NewExecution(sm)
		evs, _, err := asl.Decide(sm, x, t)
		if err != nil || len(evs) != 406 || x.Status() != asl.StatusSucceeded {
			b.Fatalf("decide: %d events, %s, %v", len(evs), x.Status(), err)
		}
	}
}

// BenchmarkDecideMap100 is one decision running an inline Map over 100 items with an
// ItemSelector reading $$.Map.Item and a Pass processor with Parameters and ResultPath.
func BenchmarkDecideMap100(b *testing.B) {
	sm := mustParse(b, `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items",
"ItemSelector":{"v.$":"$$.Map.Item.Value","i.$":"$$.Map.Item.Index","k.$":"$.k"},
"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"x.$":"$.v","i.$":"$.i"},"ResultPath":"$.r","End":true}}},
"ResultPath":"$.out","End":true}}}`)
	t := startTrigger()
	var items []string
	for i := range 100 {
		items = append(items, fmt.Sprintf(`{"n":%d,"s":"item %d"}`, i, i))
	}
	t.Start.Input = `{"k":"key","items":[` + strings.Join(items, ",") + `]}`
	b.ReportAllocs()
	for b.Loop() {
		x := asl.NewExecution(sm)
		evs, _, err := asl.Decide(sm, x, t)
		if err != nil || x.Status() != asl.StatusSucceeded {
			b.Fatalf("decide: %d events, %s, %v", len(evs), x.Status(), err)
		}
	}
}
