package projections

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/jsstore"
)

// The execution list index: ListExecutions pages newest first without reading every
// execution of the state machine.
//
// Every accepted StartExecution takes the next ordinal of its state machine from a
// JetStream counter (ExecutionCounterStream, one subject per state machine: an atomic
// increment, no read-modify-write, no conflicts between nodes) and appends an index
// entry (execution ARN, start date) to the chunk subject of that ordinal:
// sfn.xidx.<token(stateMachineArn)>.<(ordinal-1)/IndexChunk>. A page reads the counter
// (the newest chunk), then whole chunks newest first with one batched direct get each,
// and the records of the entries it returns with one multi-last direct get on the
// execution bucket. The first page of a state machine with a million executions is
// three or four requests, whatever the number of executions.
//
// Within a chunk entries are ordered by start date (then ARN), newest first; chunks are
// ordered by ordinal, which follows the start dates up to the few starts that race for
// ordinals at the same moment (and, on a cluster, the blocks of ordinals nodes lease:
// below). The entry is written before the record is created, so
// a listed entry whose record is missing or has another start date (a name that was
// taken, an idempotent repeat) is skipped.
const (
	ExecutionIndexStream   = "SFN_EXEC_INDEX"
	ExecutionCounterStream = "SFN_EXEC_COUNTERS"
	executionIndexPrefix   = "sfn.xidx."
	executionCounterPrefix = "sfn.xcnt."
	// IndexChunk is the number of ordinals per index chunk subject.
	IndexChunk = 128
	// maxScanChunks bounds the chunks one filtered page reads; a page that found too
	// few matches in them ends early with a cursor, as AWS pages may.
	maxScanChunks = 64
)

// ErrBadCursor marks a list cursor this package did not produce.
var ErrBadCursor = errors.New("invalid list cursor")

type indexEntry struct {
	ARN   string `json:"a"`
	Start int64  `json:"t"` // start date, Unix nanoseconds
}

func (e indexEntry) key() string {
	return strconv.FormatInt(e.Start, 10) + "|" + e.ARN
}

// keyLess orders entries: by start date, then ARN.
func keyLess(a, b indexEntry) bool {
	if a.Start != b.Start {
		return a.Start < b.Start
	}
	return a.ARN < b.ARN
}

func openIndex(ctx context.Context, st *jsstore.Store, replicas int) error {
	if _, err := jsstore.EnsureStream(ctx, st.JS, jetstream.StreamConfig{
		Name:        ExecutionIndexStream,
		Description: "sfnd execution list index: entries per state machine, chunked by start ordinal",
		Subjects:    []string{executionIndexPrefix + ">"},
		Storage:     jetstream.FileStorage,
		Replicas:    st.KeepReplicas(ctx, ExecutionIndexStream, replicas),
		AllowDirect: true,
	}); err != nil {
		return errors.Wrap(err, "create execution index stream")
	}
	if _, err := jsstore.EnsureStream(ctx, st.JS, jetstream.StreamConfig{
		Name:              ExecutionCounterStream,
		Description:       "sfnd execution ordinals per state machine (counters)",
		Subjects:          []string{executionCounterPrefix + ">"},
		Storage:           jetstream.FileStorage,
		Replicas:          st.KeepReplicas(ctx, ExecutionCounterStream, replicas),
		AllowDirect:       true,
		AllowMsgCounter:   true,
		MaxMsgsPerSubject: 1,
	}); err != nil {
		return errors.Wrap(err, "create execution counter stream")
	}
	return nil
}

// pubAck is a JetStream publish answer, with the counter value of a counter stream.
type pubAck struct {
	Seq   uint64 `json:"seq"`
	Val   string `json:"val"`
	Error *struct {
		Code        int    `json:"code"`
		ErrCode     uint16 `json:"err_code"`
		Description string `json:"description"`
	} `json:"error"`
}

func request(ctx context.Context, nc *nats.Conn, m *nats.Msg) (pubAck, error) {
	var ack pubAck
	resp, err := nc.RequestMsgWithContext(ctx, m)
	if err != nil {
		return ack, errors.Wrapf(err, "publish to %s", m.Subject)
	}
	if err := json.Unmarshal(resp.Data, &ack); err != nil {
		return ack, errors.Wrap(err, "decode publish ack")
	}
	if ack.Error != nil {
		return ack, errors.Newf("publish to %s: %s (%d)", m.Subject, ack.Error.Description, ack.Error.ErrCode)
	}
	return ack, nil
}

// indexRequestBound bounds one request of indexStart.
const indexRequestBound = 5 * time.Second

// indexStart records a new execution in its state machine's list index. The entry is
// published asynchronously: wait for its acknowledgement with the returned function
// (the caller creates the record meanwhile).
func (p *Executions) indexStart(ctx context.Context, rec events.ExecutionRecord) (func() error, error) {
	list := rec.StateMachineARN
	if rec.IndexARN != "" {
		list = rec.IndexARN // a Map Run's children
	}
	smTok := jsstore.Token(list)
	ord, err := p.ords.take(smTok, time.Now(), func(n int64) (int64, error) {
		m := nats.NewMsg(executionCounterPrefix + smTok)
		m.Header.Set("Nats-Incr", "+"+strconv.FormatInt(n, 10))
		// Bounded: a request the counter stream's leader never answers (it died with
		// a node) must not hold the caller forever; no retry, an increment is not
		// idempotent.
		rctx, cancel := context.WithTimeout(ctx, indexRequestBound)
		ack, err := request(rctx, p.nc, m)
		cancel()
		if err != nil {
			return 0, errors.Wrap(err, "take execution ordinal")
		}
		last, err := strconv.ParseInt(ack.Val, 10, 64)
		if err != nil || last < n {
			return 0, errors.Newf("bad execution ordinal %q", ack.Val)
		}
		return last, nil
	})
	if err != nil {
		return nil, err
	}
	b, _ := json.Marshal(indexEntry{ARN: rec.ARN, Start: rec.StartDate.UnixNano()})
	m := nats.NewMsg(chunkSubject(smTok, (ord-1)/IndexChunk))
	m.Data = b
	// A repeat below is dropped. The id names this start (ARN and start time), not the
	// ARN alone: a StartExecution retried after a crash takes a new ordinal and a new
	// start time, and its entry must not be dropped as a duplicate of the first
	// attempt's, which names a record that was never written.
	m.Header.Set(jetstream.MsgIDHeader, rec.ARN+"#index#"+strconv.FormatInt(rec.StartDate.UnixNano(), 10))
	f, err := p.js.PublishMsgAsync(m)
	if err != nil {
		return nil, errors.Wrap(err, "append execution index entry")
	}
	return func() error {
		select {
		case <-f.Ok():
			return nil
		case err := <-f.Err():
			return errors.Wrap(err, "append execution index entry")
		case <-ctx.Done():
			return errors.Wrap(ctx.Err(), "append execution index entry")
		case <-time.After(indexRequestBound):
			// No answer: the stream's leader may have died with the entry. Publish
			// it again (deduplicated by its message id) until a new leader answers.
			_, err := jsstore.PublishRetry(ctx, p.js, m)
			return errors.Wrap(err, "append execution index entry")
		}
	}, nil
}

// Ordinal leases: a node starting executions of one list fast takes its ordinals in
// blocks (one counter increment of n for n starts) instead of one increment per
// start, a NATS round trip fewer on most StartExecution calls. A block grows (doubling,
// up to maxOrdinalBlock) while each is used up within ordinalGrowWithin of its taking,
// and is 1 again — one increment per start, as without leases — once starts are
// slower; a block is not used past ordinalLeaseTTL. Ordinals of a block a node did not
// use (it expired, the node stopped) are gaps in the index: Page skips chunks' missing
// ordinals as it skips entries without records. Within a chunk entries are ordered by
// start date, so two nodes' blocks interleave correctly; only a block still in use
// after another node moved to the next chunk lists its starts behind that chunk's, and
// the lease's short life bounds that to starts within ordinalLeaseTTL of each other.
const (
	maxOrdinalBlock   = 16
	ordinalGrowWithin = 100 * time.Millisecond
	ordinalLeaseTTL   = time.Second
	maxOrdinalLists   = 4096 // lists with a lease kept at once
)

// ordinalLeases are this node's ordinal blocks, by list.
type ordinalLeases struct {
	mu    sync.Mutex
	lists map[string]*ordinalLease
}

type ordinalLease struct {
	mu         sync.Mutex // held while a block is taken: the list's other starts wait for it
	next, last int64      // the block's unused ordinals
	size       int64      // the block's size
	at         time.Time
}

// take returns the next ordinal of list (a start at now), from the node's block when
// it has one, else from a new block of the size the start rate calls for, taken with
// incr (which adds n to the list's counter and returns its new value).
func (o *ordinalLeases) take(list string, now time.Time, incr func(n int64) (int64, error)) (int64, error) {
	o.mu.Lock()
	if o.lists == nil || len(o.lists) >= maxOrdinalLists {
		o.lists = map[string]*ordinalLease{}
	}
	l := o.lists[list]
	if l == nil {
		l = &ordinalLease{}
		o.lists[list] = l
	}
	o.mu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.next <= l.last && now.Sub(l.at) < ordinalLeaseTTL {
		ord := l.next
		l.next++
		return ord, nil
	}
	size := int64(1)
	if !l.at.IsZero() && now.Sub(l.at) < ordinalGrowWithin {
		size = min(2*l.size, maxOrdinalBlock) // the last block went fast
	}
	last, err := incr(size)
	if err != nil {
		return 0, err
	}
	l.next, l.last, l.size, l.at = last-size+2, last, size, now
	return last - size + 1, nil
}

func chunkSubject(smTok string, chunk int64) string {
	return executionIndexPrefix + smTok + "." + strconv.FormatInt(chunk, 10)
}

// lastOrdinal is the newest ordinal of a state machine (0: none).
func (p *Executions) lastOrdinal(ctx context.Context, smTok string) (int64, error) {
	var ord int64
	err := p.st.DirectGet(ctx, ExecutionCounterStream, map[string]any{"last_by_subj": executionCounterPrefix + smTok}, func(m *nats.Msg) error {
		var v struct {
			Val string `json:"val"`
		}
		if err := json.Unmarshal(m.Data, &v); err != nil {
			return errors.Wrap(err, "decode execution counter")
		}
		n, err := strconv.ParseInt(v.Val, 10, 64)
		ord = n
		return errors.Wrap(err, "decode execution counter")
	})
	return ord, err
}

// readChunk returns a chunk's entries, newest first.
func (p *Executions) readChunk(ctx context.Context, smTok string, chunk int64) ([]indexEntry, error) {
	var out []indexEntry
	err := p.st.DirectGet(ctx, ExecutionIndexStream, map[string]any{
		"seq": 1, "next_by_subj": chunkSubject(smTok, chunk), "batch": 4 * IndexChunk,
	}, func(m *nats.Msg) error {
		var e indexEntry
		if err := json.Unmarshal(m.Data, &e); err != nil {
			return errors.Wrap(err, "decode execution index entry")
		}
		out = append(out, e)
		return nil
	})
	slices.SortFunc(out, func(a, b indexEntry) int {
		switch {
		case keyLess(b, a):
			return -1
		case keyLess(a, b):
			return 1
		}
		return 0
	})
	return out, err
}

// records reads the records of entries with one multi-last direct get; a missing or
// deleted record is absent from the answer.
func (p *Executions) records(ctx context.Context, smTok string, entries []indexEntry) (map[string]events.ExecutionRecord, error) {
	out := make(map[string]events.ExecutionRecord, len(entries))
	if len(entries) == 0 {
		return out, nil
	}
	subjects := make([]string, len(entries))
	for i, e := range entries {
		// A record's key starts with its own state machine (a Map Run's children are
		// listed under the Map Run but kept under <state machine>/<label>).
		tok := smTok
		if sm := StateMachineOf(e.ARN); sm != "" {
			tok = jsstore.Token(sm)
		}
		subjects[i] = "$KV." + ExecutionBucket + "." + tok + "." + jsstore.Token(e.ARN)
	}
	err := p.st.DirectGet(ctx, "KV_"+ExecutionBucket, map[string]any{"multi_last": subjects, "batch": len(subjects)}, func(m *nats.Msg) error {
		if op := m.Header.Get("KV-Operation"); op != "" {
			return nil // deleted or purged
		}
		var rec events.ExecutionRecord
		if err := json.Unmarshal(m.Data, &rec); err != nil {
			return errors.Wrap(err, "decode execution record")
		}
		out[rec.ARN] = rec
		return nil
	})
	return out, err
}

// ExecutionFilter selects executions in Page: by status ("" any) and by whether
// they were redriven (Redrive "REDRIVEN", "NOT_REDRIVEN" or "" any).
type ExecutionFilter struct {
	Status  string
	Redrive string
}

func (f ExecutionFilter) set() bool { return f.Status != "" || f.Redrive != "" }

// Keeps reports whether the filter keeps rec.
func (f ExecutionFilter) Keeps(rec *events.ExecutionRecord) bool {
	if f.Status != "" && rec.Status != f.Status {
		return false
	}
	switch f.Redrive {
	case "REDRIVEN":
		return rec.RedriveCount > 0
	case "NOT_REDRIVEN":
		return rec.RedriveCount == 0
	}
	return true
}

// Page returns up to limit executions of a state machine, newest first, starting
// after cursor (empty: from the newest), keeping only those filter keeps.
// The returned cursor resumes the listing; it is empty when nothing follows. A cursor
// this package did not produce is an error marked ErrBadCursor.
func (p *Executions) Page(ctx context.Context, stateMachineARN string, filter ExecutionFilter, cursor string, limit int) ([]events.ExecutionRecord, string, error) {
	smTok := jsstore.Token(stateMachineARN)
	var chunk int64
	var after string
	if cursor == "" {
		n, err := p.lastOrdinal(ctx, smTok)
		if err != nil || n == 0 {
			return nil, "", err
		}
		chunk = (n - 1) / IndexChunk
	} else {
		c, key, ok := strings.Cut(cursor, "/")
		var err error
		if chunk, err = strconv.ParseInt(c, 10, 64); !ok || err != nil || chunk < 0 {
			return nil, "", errors.Mark(errors.Newf("bad cursor %q", cursor), ErrBadCursor)
		}
		after = key
	}
	var out []events.ExecutionRecord
	for scanned := 0; chunk >= 0; scanned++ {
		if filter.set() && scanned == maxScanChunks {
			return out, strconv.FormatInt(chunk, 10) + "/", nil
		}
		entries, err := p.readChunk(ctx, smTok, chunk)
		if err != nil {
			return nil, "", err
		}
		if after != "" {
			i := 0
			for i < len(entries) && entries[i].key() >= after {
				i++
			}
			entries, after = entries[i:], ""
		}
		for len(entries) > 0 {
			// Read the records of as many entries as the page still needs (all of
			// the chunk when filtering).
			want := len(entries)
			if !filter.set() {
				want = min(want, limit-len(out))
			}
			recs, err := p.records(ctx, smTok, entries[:want])
			if err != nil {
				return nil, "", err
			}
			for i, e := range entries[:want] {
				rec, ok := recs[e.ARN]
				if !ok || rec.StartDate.UnixNano() != e.Start || !filter.Keeps(&rec) {
					continue
				}
				out = append(out, rec)
				if len(out) == limit {
					if i == len(entries)-1 && chunk == 0 {
						return out, "", nil
					}
					return out, strconv.FormatInt(chunk, 10) + "/" + e.key(), nil
				}
			}
			entries = entries[want:]
		}
		chunk--
	}
	return out, "", nil
}
