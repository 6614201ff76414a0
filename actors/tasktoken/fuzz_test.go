package tasktoken

import (
	"strings"
	"testing"
)

// FuzzTaskToken: Parse refuses every token this secret did not issue and never
// panics; a token it accepts is one it issues for what it names (version 1 or 2); a
// token it issues names its task.
func FuzzTaskToken(f *testing.F) {
	tt := New([]byte(strings.Repeat("k", 32)))
	arn := "arn:aws:states:us-east-1:123456789012:execution:sm:e"
	f.Add(tt.Token(arn, 5), arn, int64(5))
	f.Add(tt.TokenV1(arn, 5), arn, int64(5))
	f.Add("", "", int64(0))
	f.Add("AQ", "x", int64(1))
	f.Add("Ag", "x", int64(1))
	f.Fuzz(func(t *testing.T, token, execARN string, scheduled int64) {
		if ref, err := tt.Parse(token); err == nil &&
			tt.Token(ref.ExecARN, ref.ScheduledEventID) != token && tt.TokenV1(ref.ExecARN, ref.ScheduledEventID) != token {
			t.Fatalf("accepted a token it would not issue: %q", token)
		}
		if scheduled <= 0 {
			return
		}
		for _, tok := range []string{tt.Token(execARN, scheduled), tt.TokenV1(execARN, scheduled)} {
			ref, err := tt.Parse(tok)
			if err != nil || ref.ExecARN != execARN || ref.ScheduledEventID != scheduled {
				t.Fatalf("round trip of (%q, %d): %+v %v", execARN, scheduled, ref, err)
			}
		}
	})
}
