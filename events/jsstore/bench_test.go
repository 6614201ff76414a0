package jsstore

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/sfnd/sfnd/events"
)

// decision is the 22 events of one 10-state Pass chain execution (sfnd bench's
// passchain), in their stored shape.
func decision() []events.HistoryEvent {
	ts := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	in := `{"i":1,"last":{"step":4}}`
	evs := []events.HistoryEvent{{ID: 1, Type: events.ExecutionStarted, Timestamp: ts,
		ExecutionStartedEventDetails: &events.ExecutionStartedEventDetails{Input: &in, InputDetails: events.NotTruncated(), RoleArn: "arn:aws:iam::123456789012:role/r"},
		Ext:                          &events.Ext{Definition: `{"StartAt":"S1","States":{"S1":{"Type":"Pass","End":true}}}`}}}
	for i := 0; i < 10; i++ {
		id := int64(len(evs) + 1)
		name := "S" + string(rune('0'+i))
		evs = append(evs,
			events.HistoryEvent{ID: id, PreviousEventID: id - 1, Type: events.PassStateEntered, Timestamp: ts,
				StateEnteredEventDetails: &events.StateEnteredEventDetails{Name: name, Input: &in, InputDetails: events.NotTruncated()}},
			events.HistoryEvent{ID: id + 1, PreviousEventID: id, Type: events.PassStateExited, Timestamp: ts,
				StateExitedEventDetails: &events.StateExitedEventDetails{Name: name, Output: &in, OutputDetails: events.NotTruncated()}})
	}
	id := int64(len(evs) + 1)
	return append(evs, events.HistoryEvent{ID: id, PreviousEventID: id - 1, Type: events.ExecutionSucceeded, Timestamp: ts,
		ExecutionSucceededEventDetails: &events.OutputDetails{Output: &in, OutputDetails: events.NotTruncated()}})
}

// BenchmarkEncodeHistoryEvent encodes one event (one state transition's half).
func BenchmarkEncodeHistoryEvent(b *testing.B) {
	ev := decision()[3]
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(&ev); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeHistoryEvent decodes one event as ReadHistory does.
func BenchmarkDecodeHistoryEvent(b *testing.B) {
	data, _ := json.Marshal(decision()[3])
	b.ReportAllocs()
	for b.Loop() {
		if out, err := events.DecodeHistoryMsg(data, nil); err != nil || len(out) != 1 {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeDecision encodes a whole decision (22 events) as one history message.
func BenchmarkEncodeDecision(b *testing.B) {
	evs := decision()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(evs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeDecision decodes one history message of 22 events.
func BenchmarkDecodeDecision(b *testing.B) {
	data, _ := json.Marshal(decision())
	b.ReportAllocs()
	for b.Loop() {
		if out, err := events.DecodeHistoryMsg(data, nil); err != nil || len(out) != 22 {
			b.Fatal(err)
		}
	}
}
