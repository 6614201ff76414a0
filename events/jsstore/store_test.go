package jsstore

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfnd/sfnd/events"
)

func openTestStore(t *testing.T) *Store {
	t.Helper()
	e, err := StartEmbedded(EmbeddedConfig{StoreDir: t.TempDir(), Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Shutdown)
	nc, err := e.Connect("test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	s, err := Open(context.Background(), nc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func evs(from, n int) []events.HistoryEvent {
	out := make([]events.HistoryEvent, n)
	for i := range out {
		out[i] = events.HistoryEvent{ID: int64(from + i), Type: events.PassStateEntered, Timestamp: time.Unix(0, 0).UTC()}
	}
	return out
}

func TestAppendHistoryBatchesAndConflicts(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	const arn = "arn:aws:states:us-east-1:1:execution:sm:e1"
	seq, err := s.AppendHistory(ctx, arn, 0, evs(1, 3))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendHistory(ctx, arn, 0, evs(4, 2)); !errors.Is(err, events.ErrConflict) {
		t.Fatalf("stale batch append: got %v, want ErrConflict", err)
	}
	if _, err := s.AppendHistory(ctx, arn, 0, evs(4, 1)); !errors.Is(err, events.ErrConflict) {
		t.Fatalf("stale single append: got %v, want ErrConflict", err)
	}
	seq, err = s.AppendHistory(ctx, arn, seq, evs(4, 1))
	if err != nil {
		t.Fatal(err)
	}
	// A long decision spans several chained batches.
	if _, err = s.AppendHistory(ctx, arn, seq, evs(5, 2500)); err != nil {
		t.Fatal(err)
	}
	got, last, err := s.ReadHistory(ctx, arn)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2504 || last == 0 {
		t.Fatalf("read %d events (last %d), want 2504", len(got), last)
	}
	for i, ev := range got {
		if ev.ID != int64(i+1) {
			t.Fatalf("event %d has id %d", i, ev.ID)
		}
	}
	other, last2, err := s.ReadHistory(ctx, arn+"x")
	if err != nil || len(other) != 0 || last2 != 0 {
		t.Fatalf("empty history: %v %d %v", other, last2, err)
	}
	// The last sequence alone, as a resident actor checks it (one direct get).
	if seq, err := s.LastHistorySeq(ctx, arn); err != nil || seq != last {
		t.Fatalf("LastHistorySeq = %d, %v; want %d", seq, err, last)
	}
	if seq, err := s.LastHistorySeq(ctx, arn+"x"); err != nil || seq != 0 {
		t.Fatalf("LastHistorySeq of no history = %d, %v; want 0", seq, err)
	}
}

func TestScheduledCommandFires(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	const arn = "arn:aws:states:us-east-1:1:execution:sm:timer"
	cons, err := s.CommandStream().CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable: "t", FilterSubject: CommandPrefix + ">", AckPolicy: jetstream.AckExplicitPolicy,
	})
	if err != nil {
		t.Fatal(err)
	}
	fired := func() {
		t.Helper()
		msgs, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for m := range msgs.Messages() {
			n++
			if m.Subject() != CommandSubject(arn) {
				t.Fatalf("timer fired on %s", m.Subject())
			}
			_ = m.Ack()
		}
		if n != 1 {
			t.Fatalf("got %d fired timers, want 1 (%v)", n, msgs.Error())
		}
	}
	cmd := events.Command{Kind: events.CmdTimer, ExecARN: arn, TimerID: "w1"}
	if err := s.ScheduleCommand(ctx, cmd, "w1", time.Now().Add(300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	fired()
	// The same timer armed again (its decision is made again after the first append
	// failed, and the first schedule fired into nothing meanwhile) fires again: it
	// used to be dropped as a repeat of the first schedule's message id.
	if err := s.ScheduleCommand(ctx, cmd, "w1", time.Now().Add(300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	fired()
	// A timer armed twice while pending fires once, at the second due time.
	if err := s.ScheduleCommand(ctx, cmd, "w1", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.ScheduleCommand(ctx, cmd, "w1", time.Now().Add(300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	fired()
	if msgs, err := cons.Fetch(1, jetstream.FetchMaxWait(time.Second)); err != nil {
		t.Fatal(err)
	} else {
		for m := range msgs.Messages() {
			t.Fatalf("a replaced schedule fired too: %s", m.Data())
		}
	}
}

// TestUnscheduled: recovery finds the parked executions whose timer's schedule is
// gone (Parked, Unscheduled).
func TestUnscheduled(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	const a, b, c, d = "arn:aws:states:us-east-1:1:execution:sm:a", "arn:aws:states:us-east-1:1:execution:sm:b",
		"arn:aws:states:us-east-1:1:execution:sm:c", "arn:aws:states:us-east-1:1:execution:sm:d"
	for _, arn := range []string{a, b, c} {
		if _, err := s.AppendDecision(ctx, arn, 0, evs(1, 2), []string{"t 1", "t2"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AppendHistory(ctx, d, 0, evs(1, 2)); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour)
	arm := func(arn, id string) {
		t.Helper()
		if err := s.ScheduleCommand(ctx, events.Command{Kind: events.CmdTimer, ExecARN: arn, TimerID: id}, id, later); err != nil {
			t.Fatal(err)
		}
	}
	arm(a, "t 1")
	arm(a, "t2")
	arm(b, "t2") // b's "t 1" is lost
	arm(d, "t2")
	parked, err := s.Parked(ctx, []string{a, b, c, d})
	if err != nil {
		t.Fatal(err)
	}
	if len(parked) != 3 || len(parked[a]) != 2 || parked[d] != nil {
		t.Fatalf("parked: %v", parked)
	}
	lost, err := s.Unscheduled(ctx, parked)
	if err != nil {
		t.Fatal(err)
	}
	if len(lost) != 2 || !lost[b] || !lost[c] {
		t.Fatalf("unscheduled: %v, want b and c", lost)
	}
	// A schedule that fired left the stream, but its command still waits for the
	// execution's owner: that command wakes it, recovery need not.
	const e = "arn:aws:states:us-east-1:1:execution:sm:e"
	if _, err := s.AppendDecision(ctx, e, 0, evs(1, 2), []string{"t 1"}); err != nil {
		t.Fatal(err)
	}
	fired := events.Command{Kind: events.CmdTimer, ExecARN: e, TimerID: "t 1"}
	if err := s.PublishCommand(ctx, fired, ""); err != nil {
		t.Fatal(err)
	}
	if lost, err := s.Unscheduled(ctx, map[string][]string{e: {Token("t 1")}, b: parked[b]}); err != nil || lost[e] || !lost[b] {
		t.Fatalf("unscheduled with a fired timer's command waiting: %v %v", lost, err)
	}
	// A mark written before the timers were listed names none: always woken.
	if lost, err := s.Unscheduled(ctx, map[string][]string{a: nil}); err != nil || !lost[a] {
		t.Fatalf("unscheduled legacy mark: %v %v", lost, err)
	}
}

func TestLeaderKVGet(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	kv, err := s.JS.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "leaderget", History: 1})
	if err != nil {
		t.Fatal(err)
	}
	rev, err := kv.Put(ctx, "k.a", []byte(`{"v":1}`))
	if err != nil {
		t.Fatal(err)
	}
	val, got, err := LeaderKVGet(ctx, s.JS, "leaderget", "k.a")
	if err != nil || string(val) != `{"v":1}` || got != rev {
		t.Fatalf("LeaderKVGet = %q rev %d, %v; want the value at revision %d", val, got, err, rev)
	}
	if _, _, err := LeaderKVGet(ctx, s.JS, "leaderget", "k.missing"); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Fatalf("missing key: %v, want ErrKeyNotFound", err)
	}
	if err := kv.Delete(ctx, "k.a"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LeaderKVGet(ctx, s.JS, "leaderget", "k.a"); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Fatalf("deleted key: %v, want ErrKeyNotFound", err)
	}
}

// TestEmbeddedHost: the client listener binds 127.0.0.1 unless told (Host), and a
// listener on every interface is still reached through loopback by PublicURL.
func TestEmbeddedHost(t *testing.T) {
	for _, host := range []string{"", "0.0.0.0"} {
		e, err := StartEmbedded(EmbeddedConfig{StoreDir: t.TempDir(), Port: -1, Host: host})
		if err != nil {
			t.Fatal(err)
		}
		addr, ok := e.Server.Addr().(*net.TCPAddr)
		if !ok {
			t.Fatalf("host %q: listener on %v", host, e.Server.Addr())
		}
		if all := addr.IP.IsUnspecified(); all != (host == "0.0.0.0") || !all && !addr.IP.IsLoopback() {
			t.Fatalf("host %q: listener on %v", host, addr)
		}
		want := "nats://127.0.0.1:" + strconv.Itoa(addr.Port)
		if got := e.PublicURL(); got != want {
			t.Fatalf("host %q: PublicURL %s, want %s", host, got, want)
		}
		nc, err := nats.Connect(e.PublicURL())
		if err != nil {
			t.Fatalf("host %q: connect to %s: %v", host, e.PublicURL(), err)
		}
		nc.Close()
		e.Shutdown()
	}
}
