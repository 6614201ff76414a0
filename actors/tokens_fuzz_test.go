package actors

import (
	"strings"
	"testing"
)

// FuzzTaskToken: Parse refuses every token this key did not issue and never panics;
// a token it issued names its task.
func FuzzTaskToken(f *testing.F) {
	tt := NewTaskTokens([]byte(strings.Repeat("k", 32)))
	f.Add(tt.Token("arn:aws:states:us-east-1:123456789012:execution:sm:e", 5), "arn:aws:states:us-east-1:123456789012:execution:sm:e", int64(5))
	f.Add("", "", int64(0))
	f.Add("AQ", "x", int64(1))
	f.Fuzz(func(t *testing.T, token, execARN string, scheduled int64) {
		if ref, err := tt.Parse(token); err == nil && tt.Token(ref.ExecARN, ref.ScheduledEventID) != token {
			t.Fatalf("accepted a token it would not issue: %q", token)
		}
		if scheduled <= 0 {
			return
		}
		ref, err := tt.Parse(tt.Token(execARN, scheduled))
		if err != nil || ref.ExecARN != execARN || ref.ScheduledEventID != scheduled {
			t.Fatalf("round trip of (%q, %d): %+v %v", execARN, scheduled, ref, err)
		}
	})
}
