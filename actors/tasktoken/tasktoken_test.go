package tasktoken

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/cockroachdb/errors"
)

func TestTokens(t *testing.T) {
	tt := New([]byte(strings.Repeat("k", 32)))
	for _, arn := range []string{
		"arn:aws:states:us-east-1:123456789012:execution:sm:0b2b7b53-e5d4-4bd1-9f2c-5d3b0b9c1a11",
		"arn:aws:states:us-east-1:123456789012:execution:sm:a", "arn:aws:states:us-east-1:123456789012:execution:sm:ab",
	} {
		checkToken(t, tt, arn, tt.Token)
		checkToken(t, tt, arn, tt.TokenV1)
	}
}

// TestOpaque: a version 2 token does not show the execution, its account or its
// region, in any of its bytes; a version 1 token did.
func TestOpaque(t *testing.T) {
	tt := New([]byte(strings.Repeat("k", 32)))
	arn := "arn:aws:states:eu-west-1:111111111111:execution:payments:order-42"
	for _, tok := range []string{tt.Token(arn, 7), tt.Token(arn, 8)} {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil {
			t.Fatal(err)
		}
		for _, part := range []string{"111111111111", "eu-west-1", "payments", "order-42", "arn:"} {
			if strings.Contains(string(raw), part) || strings.Contains(tok, part) {
				t.Fatalf("token %q shows %q", tok, part)
			}
		}
	}
	raw, _ := base64.RawURLEncoding.DecodeString(tt.TokenV1(arn, 7))
	if !strings.Contains(string(raw), arn) {
		t.Fatal("version 1 token no longer what it was")
	}
	// A version 1 token as the code before version 2 issued it (computed with that
	// code) still parses.
	const v1tok = "AQdBYXJuOmF3czpzdGF0ZXM6ZXUtd2VzdC0xOjExMTExMTExMTExMTpleGVjdXRpb246cGF5bWVudHM6b3JkZXItNDI_oWFtsq5B3aVn5GKI1DB_"
	if got := tt.TokenV1(arn, 7); got != v1tok {
		t.Fatalf("TokenV1 = %q, want %q", got, v1tok)
	}
	if ref, err := tt.Parse(v1tok); err != nil || ref.ExecARN != arn || ref.ScheduledEventID != 7 {
		t.Fatalf("version 1 token: %+v %v", ref, err)
	}
}

func checkToken(t *testing.T, tt *Tokens, arn string, issue func(string, int64) string) {
	t.Helper()
	tok := issue(arn, 42)
	if tok != issue(arn, 42) {
		t.Fatal("tokens are not deterministic")
	}
	if strings.ContainsAny(tok, "+/=.") {
		t.Fatalf("token %q is not URL-safe", tok)
	}
	ref, err := tt.Parse(tok)
	if err != nil || ref.ExecARN != arn || ref.ScheduledEventID != 42 {
		t.Fatalf("parse: %+v %v", ref, err)
	}
	if issue(arn, 43) == tok || issue(arn+"x", 42) == tok {
		t.Fatal("distinct tasks share a token")
	}
	other := New([]byte(strings.Repeat("o", 32)))
	bad := []string{"", "x", "!!!!", tok[:len(tok)-1], tok + "A", other.Token(arn, 42), other.TokenV1(arn, 42)}
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
		if _, err := tt.Parse(b); !errors.Is(err, ErrInvalid) {
			t.Fatalf("Parse(%q) = %v, want ErrInvalid", b, err)
		}
	}
}
