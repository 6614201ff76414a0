package events

import "testing"

// FuzzDecodeHistory: any stored message decodes to events or an error, never a panic.
func FuzzDecodeHistory(f *testing.F) {
	f.Add([]byte(`{"id":1,"previousEventId":0,"type":"ExecutionStarted","timestamp":1700000000,"executionStartedEventDetails":{"input":"{}","roleArn":"arn:aws:iam::1:role/r"}}`))
	f.Add([]byte(`[{"id":2,"previousEventId":1,"type":"PassStateEntered","stateEnteredEventDetails":{"name":"P","input":"{}"}},{"id":3,"type":"PassStateExited"}]`))
	f.Add([]byte(`[`))
	f.Add([]byte(`{"id":"x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = DecodeHistoryMsg(data, nil)
	})
}
