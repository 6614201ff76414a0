package api

import (
	"strings"
	"testing"

	"github.com/sfnd/sfnd/events/fault"
)

func TestCredentialRegion(t *testing.T) {
	for auth, want := range map[string]string{
		"AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-1/states/aws4_request, SignedHeaders=host, Signature=x": "eu-west-1",
		"AWS4-HMAC-SHA256 Credential=AKID/20260101/cn-north-1/states/aws4_request":                                 "cn-north-1",
		"AWS4-HMAC-SHA256 Credential=AKID/2026/eu-west-1/states/aws4_request":                                      "",
		"AWS4-HMAC-SHA256 Credential=AKID/20260101/EU_WEST/states/aws4_request":                                    "EU_WEST",
		"AWS4-HMAC-SHA256 Credential=AKID/20260101":                                                                "",
		"": "",
	} {
		if got, _ := credentialRegion(auth); got != want {
			t.Errorf("credentialRegion(%q) = %q, want %q", auth, got, want)
		}
	}
}

func TestViolationsCapEchoedValues(t *testing.T) {
	var v Violations
	v.Length("name", strings.Repeat("x", 1<<20), 1, 80)
	v.Length("alias", strings.Repeat("y", 1<<20), 1, 80)
	msg := v.Err().Error()
	if len(msg) > 2*fault.MaxEcho+400 {
		t.Fatalf("error message of %d bytes for two over-long values", len(msg))
	}
	if !strings.Contains(msg, "at 'name' failed to satisfy constraint: Member must have length less than or equal to 80") ||
		!strings.Contains(msg, "at 'alias' failed") {
		t.Fatalf("message lost its constraint text: %s", msg[len(msg)-300:])
	}
}
