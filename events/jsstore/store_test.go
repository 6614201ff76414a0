package jsstore

import (
	"context"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
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
	if err := s.ScheduleCommand(ctx, events.Command{Kind: events.CmdTimer, ExecARN: arn, TimerID: "w1"}, "w1", time.Now().Add(300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
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
