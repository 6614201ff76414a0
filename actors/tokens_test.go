package actors

import (
	"strings"
	"testing"

	"github.com/cockroachdb/errors"
)

func TestTaskTokens(t *testing.T) {
	key := []byte(strings.Repeat("k", 32))
	tt := NewTaskTokens(key)
	for _, arn := range []string{
		"arn:aws:states:us-east-1:123456789012:execution:sm:0b2b7b53-e5d4-4bd1-9f2c-5d3b0b9c1a11",
		"arn:aws:states:us-east-1:123456789012:execution:sm:a", "arn:aws:states:us-east-1:123456789012:execution:sm:ab",
	} {
		checkToken(t, tt, arn)
	}
}

func checkToken(t *testing.T, tt *TaskTokens, arn string) {
	t.Helper()
	tok := tt.Token(arn, 42)
	if tok != tt.Token(arn, 42) {
		t.Fatal("tokens are not deterministic")
	}
	if strings.ContainsAny(tok, "+/=.") {
		t.Fatalf("token %q is not URL-safe", tok)
	}
	ref, err := tt.Parse(tok)
	if err != nil || ref.ExecARN != arn || ref.ScheduledEventID != 42 {
		t.Fatalf("parse: %+v %v", ref, err)
	}
	if tt.Token(arn, 43) == tok || tt.Token(arn+"x", 42) == tok {
		t.Fatal("distinct tasks share a token")
	}
	other := NewTaskTokens([]byte(strings.Repeat("o", 32)))
	bad := []string{"", "x", "!!!!", tok[:len(tok)-1], tok + "A", other.Token(arn, 42)}
	for i := range tok {
		b := []byte(tok)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		bad = append(bad, string(b))
	}
	for _, b := range bad {
		if _, err := tt.Parse(b); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("Parse(%q) = %v, want ErrInvalidToken", b, err)
		}
	}
}
