package jsstore

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/errors"
	"github.com/nats-io/nats.go"
)

// scanMux routes the replies of batched direct gets (scanSubject) to their readers
// through one wildcard subscription per store. A subscription per read cost a SUB
// and an UNSUB on the shared connection and in the server's subject index for every
// history read: with thousands of actors loading at once (timers coming due after a
// restart) those reads queued on the connection's lock for seconds.
type scanMux struct {
	once   sync.Once
	err    error
	prefix string
	seq    atomic.Uint64

	mu      sync.Mutex
	waiting map[string]*scanReply
}

// scanReply queues the replies of one reader (unbounded: a reader asks for at most
// directBatch messages at a time, and the subscription's handler must never block).
type scanReply struct {
	mu    sync.Mutex
	msgs  []*nats.Msg
	ready chan struct{}
}

func (r *scanReply) push(m *nats.Msg) {
	r.mu.Lock()
	r.msgs = append(r.msgs, m)
	r.mu.Unlock()
	select {
	case r.ready <- struct{}{}:
	default:
	}
}

func (r *scanReply) next(ctx context.Context) (*nats.Msg, error) {
	for {
		r.mu.Lock()
		if len(r.msgs) > 0 {
			m := r.msgs[0]
			r.msgs[0] = nil
			r.msgs = r.msgs[1:]
			r.mu.Unlock()
			return m, nil
		}
		r.mu.Unlock()
		select {
		case <-r.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// open registers a reader and returns its reply subject and a function that
// unregisters it.
func (s *Store) openScan() (string, *scanReply, func(), error) {
	mx := &s.scan
	mx.once.Do(func() {
		mx.prefix = nats.NewInbox() + ".scan."
		mx.waiting = map[string]*scanReply{}
		sub, err := s.NC.Subscribe(mx.prefix+"*", func(m *nats.Msg) {
			mx.mu.Lock()
			r := mx.waiting[m.Subject]
			mx.mu.Unlock()
			if r != nil {
				r.push(m)
			}
		})
		if err != nil {
			mx.err = errors.Wrap(err, "subscribe for direct get replies")
			return
		}
		// Never drop a reply (a dropped one would be a missing event).
		mx.err = errors.Wrap(sub.SetPendingLimits(-1, -1), "direct get replies")
	})
	if mx.err != nil {
		return "", nil, nil, mx.err
	}
	subj := mx.prefix + strconv.FormatUint(mx.seq.Add(1), 36)
	r := &scanReply{ready: make(chan struct{}, 1)}
	mx.mu.Lock()
	mx.waiting[subj] = r
	mx.mu.Unlock()
	return subj, r, func() {
		mx.mu.Lock()
		delete(mx.waiting, subj)
		mx.mu.Unlock()
	}, nil
}
