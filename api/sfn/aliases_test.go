package sfn

import (
	"encoding/json"
	"testing"

	"github.com/sfnd/sfnd/events"
)

func TestPickVersionFollowsWeights(t *testing.T) {
	routing := []events.RoutingEntry{{StateMachineVersionARN: "v1", Weight: 30}, {StateMachineVersionARN: "v2", Weight: 70}}
	for x, want := range map[int]string{0: "v1", 29: "v1", 30: "v2", 99: "v2"} {
		if got := pickVersion(routing, func(n int) int {
			if n != 100 {
				t.Fatalf("drew from [0, %d)", n)
			}
			return x
		}); got != want {
			t.Errorf("draw %d picked %s, want %s", x, got, want)
		}
	}
}

func TestCheckRouting(t *testing.T) {
	num := func(s string) *json.Number { n := json.Number(s); return &n }
	str := func(s string) *string { return &s }
	sm := "arn:aws:states:us-east-1:123456789012:stateMachine:m"
	entries, base, err := checkRouting([]routingItem{{str(sm + ":1"), num("60")}, {str(sm + ":2"), num("40")}})
	if err != nil || base != sm || len(entries) != 2 || entries[1].Weight != 40 {
		t.Fatalf("valid routing: %v %s %v", entries, base, err)
	}
	if _, _, err := checkRouting([]routingItem{{str(sm + ":1"), num("60")}, {str("arn:aws:states:us-east-1:123456789012:stateMachine:other:2"), num("40")}}); err == nil {
		t.Fatal("routing across two state machines accepted")
	}
	if _, _, err := checkRouting(nil); err == nil {
		t.Fatal("empty routing accepted")
	}
}
