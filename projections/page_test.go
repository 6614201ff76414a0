package projections

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/sfnd/sfnd/events"
)

// BenchmarkPage reads the first ListExecutions page (100 records) of a state machine
// with 150 executions, the NATS server in process (its allocations count too).
func BenchmarkPage(b *testing.B) {
	ctx := context.Background()
	p, err := OpenExecutions(ctx, testStore(b), 0)
	if err != nil {
		b.Fatal(err)
	}
	sm := "arn:aws:states:us-east-1:123456789012:stateMachine:pages"
	prefix := "arn:aws:states:us-east-1:123456789012:execution:pages:"
	now := time.Now().UTC()
	for i := range 150 {
		name := "e" + strconv.Itoa(i)
		if _, err := p.Reserve(ctx, events.ExecutionRecord{ARN: prefix + name, StateMachineARN: sm, Name: name,
			Status: "RUNNING", StartDate: now.Add(time.Duration(i) * time.Millisecond),
			Start: &events.StartCommand{Name: name, Input: `{}`, StateMachineARN: sm}}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		recs, _, err := p.Page(ctx, sm, ExecutionFilter{}, "", 100)
		if err != nil || len(recs) != 100 {
			b.Fatalf("page: %d records, %v", len(recs), err)
		}
	}
}
