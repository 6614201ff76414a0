package api

import "testing"

func TestCredentialRegion(t *testing.T) {
	for auth, want := range map[string]string{
		"AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-1/states/aws4_request, SignedHeaders=host, Signature=x": "eu-west-1",
		"AWS4-HMAC-SHA256 Credential=AKID/20260101/cn-north-1/states/aws4_request":                                 "cn-north-1",
		"AWS4-HMAC-SHA256 Credential=AKID/2026/eu-west-1/states/aws4_request":                                      "",
		"AWS4-HMAC-SHA256 Credential=AKID/20260101/EU_WEST/states/aws4_request":                                    "",
		"AWS4-HMAC-SHA256 Credential=AKID/20260101":                                                                "",
		"": "",
	} {
		if got := credentialRegion(auth); got != want {
			t.Errorf("credentialRegion(%q) = %q, want %q", auth, got, want)
		}
	}
}
