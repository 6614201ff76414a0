package sfn

import (
	"strings"
	"testing"

	"github.com/sfnd/sfnd/api"
	"github.com/sfnd/sfnd/events/fault"
)

func wantCode(t *testing.T, err error, code fault.Code, msg string) {
	t.Helper()
	e, ok := fault.As(err)
	if !ok {
		t.Fatalf("got %v, want %s", err, code)
	}
	if e.Code != code {
		t.Fatalf("code %s, want %s (%s)", e.Code, code, e.Message)
	}
	if msg != "" && e.Message != msg {
		t.Fatalf("message %q, want %q", e.Message, msg)
	}
}

func TestValidName(t *testing.T) {
	valid := []string{
		"a", "Activity1", "activity.name.v2", "activity-name_1", "état", "名前",
		strings.Repeat("x", 80), strings.Repeat("é", 80), "a(b)c", "a'b", "a=b+c!@",
	}
	for _, n := range valid {
		if err := validName(n); err != nil {
			t.Errorf("validName(%q) = %v, want nil", n, err)
		}
	}
	invalid := []string{
		"a b", "a\tb", "a\nb", "a<b", "a>b", "a{b", "a}b", "a[b", "a]b", "a?b", "a*b",
		`a"b`, "a#b", "a%b", `a\b`, "a^b", "a|b", "a~b", "a`b", "a$b", "a&b", "a,b",
		"a;b", "a:b", "a/b", "a\x00b", "a\x1fb", "a\x7fb", "a\u0080b", "a\u009fb",
		"a\u00a0b", "a\u2003b", "\xff\xfe",
	}
	for _, n := range invalid {
		wantCode(t, validName(n), fault.InvalidName, "Invalid Name: '"+n+"'")
	}
	// Just outside the control ranges.
	for _, n := range []string{"a\u00a1b", "a!b"} {
		if err := validName(n); err != nil {
			t.Errorf("validName(%q) = %v, want nil", n, err)
		}
	}
}

func TestNameLengthViolations(t *testing.T) {
	var v violations
	v.Length("name", strings.Repeat("é", 80), 1, 80) // 80 characters, 160 bytes
	if err := v.Err(); err != nil {
		t.Fatalf("80 characters: %v", err)
	}
	long := strings.Repeat("n", 81)
	v.Length("name", long, 1, 80)
	wantCode(t, v.Err(), fault.ValidationException,
		"1 validation error detected: Value '"+long+"' at 'name' failed to satisfy constraint: Member must have length less than or equal to 80")
	v = nil
	v.Length("name", "", 1, 80)
	v.Required("definition", false)
	wantCode(t, v.Err(), fault.ValidationException,
		"2 validation errors detected: Value '' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 1; "+
			"Value null at 'definition' failed to satisfy constraint: Member must not be null")
}

func TestParseARN(t *testing.T) {
	a, err := parseARN("arn:aws:states:eu-west-1:123456789012:stateMachine:sm-1", "stateMachine")
	if err != nil {
		t.Fatal(err)
	}
	if a.partition != "aws" || a.region != "eu-west-1" || a.account != "123456789012" ||
		a.resourceType != "stateMachine" || a.name != "sm-1" || a.qualifier != "" {
		t.Fatalf("parsed %+v", a)
	}
	if got := a.String(); got != "arn:aws:states:eu-west-1:123456789012:stateMachine:sm-1" {
		t.Fatalf("String() = %q", got)
	}
	a, err = parseARN("arn:aws-cn:states:cn-north-1:123456789012:execution:sm:exec:extra", "execution")
	if err != nil {
		t.Fatal(err)
	}
	if a.partition != "aws-cn" || a.name != "sm" || a.qualifier != "exec" || a.more != "extra" {
		t.Fatalf("parsed %+v", a)
	}
	if got := a.String(); got != "arn:aws-cn:states:cn-north-1:123456789012:execution:sm:exec:extra" {
		t.Fatalf("String() = %q", got)
	}

	for _, bad := range []string{"", "not-an-arn", "arn:aws:lambda:us-east-1:123456789012:function:f",
		"arn:gcp:states:us-east-1:123456789012:stateMachine:x", "arn:aws:states:us-east-1:123456789012",
		"xrn:aws:states:us-east-1:123456789012:stateMachine:x"} {
		_, err := parseARN(bad, "stateMachine")
		wantCode(t, err, fault.InvalidArn, "Invalid Arn: 'Invalid ARN prefix: "+bad+"'")
	}
	_, err = parseARN("arn:aws:states:us-east-1:123456789012:activity:a", "stateMachine")
	wantCode(t, err, fault.InvalidArn, "Invalid Arn: 'Resource type not valid in this context: activity'")
	_, err = parseARN("arn:aws:states:us-east-1:123456789012:activity:a", "stateMachine", "activity")
	if err != nil {
		t.Fatalf("activity in a two-type context: %v", err)
	}
	for _, bad := range []string{"arn:aws:states::123456789012:stateMachine:x",
		"arn:aws:states:us-east-1::stateMachine:x", "arn:aws:states:us-east-1:123456789012:stateMachine:",
		"arn:aws:states:us-east-1:123456789012:stateMachine:x:::::", "arn:aws:states:us-east-1:123456789012:stateMachine:x:",
		"arn:aws:states:us-east-1:123456789012:stateMachine:x::y", "arn:aws:states:us-east-1:123456789012:stateMachine:x:1:2:3"} {
		_, err := parseARN(bad, "stateMachine")
		wantCode(t, err, fault.InvalidArn, "Invalid Arn: '"+bad+"'")
	}
}

func TestPartitionOf(t *testing.T) {
	for region, want := range map[string]string{
		"us-east-1": "aws", "eu-west-1": "aws", "cn-north-1": "aws-cn", "us-gov-west-1": "aws-us-gov",
		"us-iso-east-1": "aws-iso", "us-isob-east-1": "aws-iso-b", "eu-isoe-west-1": "aws-iso-e",
		"us-isof-south-1": "aws-iso-f", "us-isof-north-9": "aws-iso-f", "eusc-de-east-1": "aws-eusc",
	} {
		if got := api.PartitionOf(region); got != want {
			t.Errorf("api.PartitionOf(%s) = %s, want %s", region, got, want)
		}
	}
	r := &request{Region: "cn-northwest-1", Account: "111122223333"}
	if got := arnFor(r, "activity", "a"); got != "arn:aws-cn:states:cn-northwest-1:111122223333:activity:a" {
		t.Fatalf("arnFor = %s", got)
	}
}

func TestTokenRoundTrip(t *testing.T) {
	after := sortKey(1234567890, "arn:aws:states:us-east-1:123456789012:stateMachine:x")
	tok := encodeToken("ListStateMachines", after)
	if tok == nil || len(*tok) == 0 || len(*tok) > tokenMaxLen {
		t.Fatalf("token %v", tok)
	}
	if strings.Contains(*tok, after) {
		t.Fatalf("token %q shows its cursor in clear", *tok)
	}
	got, err := decodeToken("ListStateMachines", tok)
	if err != nil || got != after {
		t.Fatalf("decodeToken = %q, %v; want %q", got, err, after)
	}
	if got, err := decodeToken("ListStateMachines", nil); got != "" || err != nil {
		t.Fatalf("nil token: %q, %v", got, err)
	}
	// A token is only good for the operation that issued it.
	_, err = decodeToken("ListActivities", tok)
	wantCode(t, err, fault.InvalidToken, "Invalid Token: 'Invalid token'")
	for _, bad := range []string{"garbage", "!!!", "e30", "bnVsbA", *tok + "x"} {
		_, err := decodeToken("ListStateMachines", &bad)
		wantCode(t, err, fault.InvalidToken, "Invalid Token: 'Invalid token'")
	}
}

func TestPaginate(t *testing.T) {
	items := make([]string, 7)
	for i := range items {
		items[i] = sortKey(int64(i), "x")
	}
	id := func(s string) string { return s }
	n := 3
	var seen []string
	var tok *string
	for pages := 0; ; pages++ {
		if pages > len(items) {
			t.Fatal("pagination does not end")
		}
		out, next, err := paginate("Op", items, id, page{MaxResults: &n, NextToken: tok})
		if err != nil {
			t.Fatal(err)
		}
		if len(out) > n {
			t.Fatalf("page of %d items, max %d", len(out), n)
		}
		seen = append(seen, out...)
		if next == nil {
			break
		}
		tok = next
	}
	if strings.Join(seen, ",") != strings.Join(items, ",") {
		t.Fatalf("pages gave %v, want %v", seen, items)
	}
	// The cursor survives the deletion of the item it names.
	first, next, _ := paginate("Op", items, id, page{MaxResults: &n})
	rest := append(append([]string{}, items[:2]...), items[3:]...) // items[2] deleted
	out, _, _ := paginate("Op", rest, id, page{MaxResults: &n, NextToken: next})
	if len(first) != 3 || out[0] != items[3] {
		t.Fatalf("after deletion the next page starts at %v, want %v", out[0], items[3])
	}
	// A full page at the very end carries no token.
	out, next, _ = paginate("Op", items[:3], id, page{MaxResults: &n})
	if len(out) != 3 || next != nil {
		t.Fatalf("exact last page: %d items, token %v", len(out), next)
	}
	// 0 and absent both mean 100.
	many := make([]string, 150)
	for i := range many {
		many[i] = sortKey(int64(i), "y")
	}
	zero := 0
	for _, p := range []page{{}, {MaxResults: &zero}} {
		out, next, _ := paginate("Op", many, id, p)
		if len(out) != 100 || next == nil {
			t.Fatalf("default page: %d items, token %v", len(out), next)
		}
	}
}

func TestPageCheck(t *testing.T) {
	for _, c := range []struct {
		max  int
		want string
	}{
		{1001, "1 validation error detected: Value '1001' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000"},
		{-1, "1 validation error detected: Value '-1' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 0"},
	} {
		var v violations
		page{MaxResults: &c.max}.check(&v)
		wantCode(t, v.Err(), fault.ValidationException, c.want)
	}
	for _, ok := range []int{0, 1, 1000} {
		var v violations
		page{MaxResults: &ok}.check(&v)
		if err := v.Err(); err != nil {
			t.Fatalf("maxResults %d: %v", ok, err)
		}
	}
	long := strings.Repeat("t", tokenMaxLen+1)
	var v violations
	page{NextToken: &long}.check(&v)
	wantCode(t, v.Err(), fault.ValidationException, "")
}
