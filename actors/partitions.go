package actors

import (
	"context"
	"encoding/json"
	"hash/fnv"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfnd/sfnd/events/jsstore"
)

// Partition ownership.
//
// Each command partition p has its own durable consumer sfnd-exec-<p> (filter
// sfn.cmd.<p>.>) with a pinned-client priority group (nats-server 2.11+): every node
// pulls on every partition, and the server delivers a partition's messages to one
// pinned client at a time. When the pinned node dies its pulls stop, the server
// unpins it after PinnedTTL and pins the next node that pulls: that is the failover,
// done by NATS. Its unacknowledged commands come back after AckWait.
//
// Nodes spread the partitions among themselves: every node writes its record to the
// KV bucket sfn_nodes every second (records expire after NodeTTL), and a partition's
// preferred node is the live node with the highest rendezvous hash for it. A node
// that receives a partition's commands while another live node is preferred releases
// it (stops pulling, unpins, pauses ReleasePause); the preferred node, pulling too,
// is pinned next. A node that becomes the preferred one of a partition (at start-up,
// or because the previous one left the bucket) wakes the partition's running
// executions (Config.Acquired), which re-arms in-memory timers and re-dispatches tasks
// the node that died left behind; when any node leaves, every node wakes all its
// partitions (the one that left may have run executions of any partition). Correctness never depends on any of this: the
// expected-sequence append fences a stale owner.
const (
	// OwnerGroup is the priority group of the partition consumers.
	OwnerGroup = "owner"
	// PinnedTTL: a pinned node that sent no pull request for this long is unpinned.
	PinnedTTL = 4 * time.Second
	// CommandAckWait: a command delivered to a node that died comes back after this.
	CommandAckWait = 5 * time.Second
	// NodeTTL: a node that wrote no record for this long is gone.
	NodeTTL = 6 * time.Second
	// ReleasePause: a node that released a partition does not pull on it for this long.
	ReleasePause = 3 * time.Second
	// NodesBucket holds one record per live node.
	NodesBucket = "sfn_nodes"

	heartbeatEvery = time.Second
	maxAckPending  = 128
	pullBatch      = 64
	pullExpiry     = 2 * time.Second
	// requestBound bounds each JetStream request of the ownership loop.
	requestBound = 2 * time.Second
)

// ConsumerName is the durable consumer of command partition p.
func ConsumerName(p int) string { return "sfnd-exec-" + strconv.Itoa(p) }

// NodeRecord is what a node publishes about itself in NodesBucket.
type NodeRecord struct {
	Name     string    `json:"name"`
	Endpoint string    `json:"endpoint,omitempty"`
	Started  time.Time `json:"started"`
	Updated  time.Time `json:"updated"`
	// Owned lists the partitions whose pinned client is this node.
	Owned []int `json:"owned"`
	// Preferred lists the partitions this node should own (rendezvous hash).
	Preferred []int `json:"preferred"`
	// Pins maps a partition to the pin id the server gave this node's client.
	Pins     map[string]string `json:"pins,omitempty"`
	Resident int               `json:"resident"`
}

// PreferredNode is the node of nodes that should own partition p.
func PreferredNode(nodes []string, p int) string {
	best, bestH := "", uint64(0)
	for _, n := range nodes {
		h := fnv.New64a()
		_, _ = h.Write([]byte(n))
		if v := mix(h.Sum64() ^ uint64(p+1)*0x9e3779b97f4a7c15); best == "" || v > bestH || (v == bestH && n < best) {
			best, bestH = n, v
		}
	}
	return best
}

// mix is splitmix64's finalizer: every input bit moves every output bit.
func mix(x uint64) uint64 {
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// partition is this node's consumer of one command partition.
type partition struct {
	n       int
	cc      jetstream.ConsumeContext
	pausedT time.Time // released at; no pulls until ReleasePause later
	pin     atomic.Pointer[string]
	lastMsg atomic.Int64 // unix nanos of the last command received
	owned   atomic.Bool  // the server's pinned client is ours (last check)
	pref    atomic.Bool  // this node is the preferred owner (last tick)
	pulling atomic.Bool  // cc is set and had not ended at the last tick
}

// owners runs this node's side of partition ownership.
type owners struct {
	e        *Engine
	node     string
	started  time.Time
	kv       jetstream.KeyValue
	stream   jetstream.Stream
	parts    [jsstore.Partitions]*partition
	stop     chan struct{}
	done     chan struct{}
	beatDone chan struct{}

	mu    sync.Mutex
	live  []string
	ticks int
}

func newOwners(ctx context.Context, e *Engine) (*owners, error) {
	o := &owners{e: e, node: e.cfg.NodeName, started: time.Now().UTC(), stream: e.store.CommandStream(),
		stop: make(chan struct{}), done: make(chan struct{}), beatDone: make(chan struct{})}
	if o.node == "" {
		o.node = "sfnd"
	}
	// Before partitions had consumers of their own, one consumer read them all; on a
	// work-queue stream it would overlap the new ones.
	if err := o.stream.DeleteConsumer(ctx, "sfnd-exec"); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, errors.Wrap(err, "delete the old command consumer")
	}
	var err error
	o.kv, err = jsstore.EnsureKeyValue(ctx, e.store.JS, jetstream.KeyValueConfig{
		Bucket: NodesBucket, Description: "sfnd live nodes and the command partitions they own",
		Storage: jetstream.FileStorage, Replicas: e.store.KeepReplicas(ctx, "KV_"+NodesBucket, 0),
		History: 1, TTL: NodeTTL,
	})
	if err != nil {
		return nil, errors.Wrap(err, "create node bucket")
	}
	for p := range jsstore.Partitions {
		if _, err := jsstore.EnsureConsumer(ctx, o.stream, jetstream.ConsumerConfig{
			Durable:       ConsumerName(p),
			Description:   "sfnd command partition " + strconv.Itoa(p) + ": one pinned node at a time",
			FilterSubject: jsstore.CommandPrefix + strconv.Itoa(p) + ".>",
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       CommandAckWait, // redelivery after a crash; repeats are harmless (stale triggers yield nothing)
			// Bounded so that a burst (thousands of timers due at once) waits on the
			// server, not in the engine: 16 partitions x 128 commands in flight.
			MaxAckPending:  maxAckPending,
			PriorityPolicy: jetstream.PriorityPolicyPinned,
			PriorityGroups: []string{OwnerGroup},
			PinnedTTL:      PinnedTTL,
		}); err != nil {
			return nil, errors.Wrapf(err, "create command consumer of partition %d", p)
		}
		o.parts[p] = &partition{n: p}
	}
	o.publishRecord()
	o.tick()
	go o.loop()
	go o.heartbeat()
	return o, nil
}

func (o *owners) loop() {
	defer close(o.done)
	t := time.NewTicker(heartbeatEvery)
	defer t.Stop()
	for {
		select {
		case <-o.stop:
			return
		case <-t.C:
			o.tick()
		}
	}
}

// heartbeat publishes this node's record every second, on its own: a tick that waits
// on a consumer without a leader (one died with a node) must not let the record expire.
func (o *owners) heartbeat() {
	defer close(o.beatDone)
	t := time.NewTicker(heartbeatEvery)
	defer t.Stop()
	for {
		select {
		case <-o.stop:
			return
		case <-t.C:
			o.publishRecord()
		}
	}
}

// tick reads the live nodes, releases partitions that belong elsewhere, (re)starts
// pulling, and wakes newly preferred partitions. Every JetStream request has its own
// short bound: a request to a consumer whose leader died with a node goes unanswered
// until its RAFT group elects another.
func (o *owners) tick() {
	o.ticks++
	if o.ticks%3 == 1 {
		o.checkPins()
	}
	live, err := o.liveNodes()
	if err != nil {
		live = nil // keep the previous view below
	}
	o.mu.Lock()
	left := false
	if live != nil {
		for _, n := range o.live {
			left = left || !slices.Contains(live, n)
		}
		o.live = live
	}
	live = o.live
	o.mu.Unlock()
	if len(live) == 0 {
		live = []string{o.node}
	}
	now := time.Now()
	var acquired []int
	var pull []*partition
	for _, p := range o.parts {
		if p.cc != nil {
			select {
			case <-p.cc.Closed():
				// The pull ended by itself (its consumer lost its leader or was
				// recreated, a heartbeat went missing): pull again below.
				o.e.cfg.Logger.Debug("command partition consumption ended; pulling again", "partition", p.n)
				p.cc = nil
				p.pulling.Store(false)
			default:
			}
		}
		pref := PreferredNode(live, p.n) == o.node
		// A node that left may have run executions of any partition (a start runs
		// where it was answered, short timers stay in that node's memory): when one
		// leaves, every node wakes the running executions of all its partitions.
		if pref && (!p.pref.Load() || left) {
			acquired = append(acquired, p.n)
		}
		p.pref.Store(pref)
		if !pref && p.cc != nil && now.Sub(time.Unix(0, p.lastMsg.Load())) < 2*heartbeatEvery {
			o.release(p)
			continue
		}
		if p.cc == nil && now.Sub(p.pausedT) >= ReleasePause {
			pull = append(pull, p)
		}
	}
	// Side by side: each waits at most requestBound for its consumer.
	var wg sync.WaitGroup
	for _, p := range pull {
		wg.Go(func() { o.consume(p) })
	}
	wg.Wait()
	if len(acquired) > 0 && o.e.cfg.Acquired != nil {
		o.e.cfg.Acquired(acquired)
	}
}

// consume starts pulling on a partition (a fresh consumer handle: no stale pin id).
func (o *owners) consume(p *partition) {
	ctx, cancel := context.WithTimeout(context.Background(), requestBound)
	defer cancel()
	cons, err := o.stream.Consumer(ctx, ConsumerName(p.n))
	if err != nil {
		o.e.cfg.Logger.Warn("command partition consumer", "partition", p.n, "err", err)
		return
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		p.lastMsg.Store(time.Now().UnixNano())
		if h := m.Headers(); h != nil {
			if pin := h.Get("Nats-Pin-Id"); pin != "" {
				if cur := p.pin.Load(); cur == nil || *cur != pin {
					p.pin.Store(&pin)
				}
			}
		}
		o.e.route(m)
	}, jetstream.PullPriorityGroup(OwnerGroup), jetstream.PullMaxMessages(pullBatch), jetstream.PullExpiry(pullExpiry),
		jetstream.ConsumeErrHandler(func(jetstream.ConsumeContext, error) {}))
	if err != nil {
		o.e.cfg.Logger.Warn("consume command partition", "partition", p.n, "err", err)
		return
	}
	p.cc = cc
	p.pulling.Store(true)
}

// release hands a partition to its preferred node: stop pulling (commands already
// received are still handled and acknowledged), unpin, pause.
func (o *owners) release(p *partition) {
	ctx, cancel := context.WithTimeout(context.Background(), requestBound)
	defer cancel()
	p.cc.Drain()
	p.cc = nil
	p.pulling.Store(false)
	p.pausedT = time.Now()
	p.owned.Store(false)
	if err := o.stream.UnpinConsumer(ctx, ConsumerName(p.n), OwnerGroup); err != nil {
		o.e.cfg.Logger.Debug("unpin command partition", "partition", p.n, "err", err)
	}
	o.e.cfg.Logger.Debug("released command partition", "partition", p.n, "node", o.node)
}

// checkPins asks the server which client each partition is pinned to.
func (o *owners) checkPins() {
	var wg sync.WaitGroup
	for _, p := range o.parts {
		pin := p.pin.Load()
		if pin == nil || p.cc == nil {
			p.owned.Store(false)
			continue
		}
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), requestBound)
			defer cancel()
			c, err := o.stream.Consumer(ctx, ConsumerName(p.n))
			if err != nil {
				return
			}
			owned := false
			for _, g := range c.CachedInfo().PriorityGroups {
				if g.Group == OwnerGroup && g.PinnedClientID == *pin {
					owned = true
				}
			}
			p.owned.Store(owned)
		})
	}
	wg.Wait()
}

func (o *owners) publishRecord() {
	ctx, cancel := context.WithTimeout(context.Background(), requestBound)
	defer cancel()
	rec := NodeRecord{Name: o.node, Endpoint: o.e.cfg.Endpoint, Started: o.started, Updated: time.Now().UTC(),
		Pins: map[string]string{}, Resident: o.e.Resident(), Owned: []int{}, Preferred: []int{}}
	for _, p := range o.parts {
		if p.owned.Load() {
			rec.Owned = append(rec.Owned, p.n)
		}
		if p.pref.Load() {
			rec.Preferred = append(rec.Preferred, p.n)
		}
		if pin := p.pin.Load(); pin != nil {
			rec.Pins[strconv.Itoa(p.n)] = *pin
		}
	}
	data, _ := json.Marshal(rec)
	if _, err := o.kv.Put(ctx, o.node, data); err != nil {
		o.e.cfg.Logger.Debug("publish node record", "err", err)
	}
}

func (o *owners) liveNodes() ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), requestBound)
	defer cancel()
	keys, err := o.kv.ListKeys(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for k := range keys.Keys() {
		out = append(out, k)
	}
	if !slices.Contains(out, o.node) {
		out = append(out, o.node)
	}
	slices.Sort(out)
	return out, nil
}

// Owned reports, per partition, whether this node's client is the pinned one (as of
// the last check, every few seconds).
func (o *owners) Owned() []bool {
	out := make([]bool, len(o.parts))
	for i, p := range o.parts {
		out[i] = p.owned.Load()
	}
	return out
}

// NotPulling lists the partitions this node prefers (it should own them) and does
// not pull on (as of the last tick, every second): its pull could not start (the
// consumer has no leader) or ended and is not restarted yet. Before its first tick a
// node prefers every partition.
func (o *owners) NotPulling() []int {
	var out []int
	for _, p := range o.parts {
		if p.pref.Load() && !p.pulling.Load() {
			out = append(out, p.n)
		}
	}
	return out
}

// close stops pulling, hands over the partitions this node is pinned on at once
// (rather than after PinnedTTL) and removes the node's record.
func (o *owners) close() {
	close(o.stop)
	<-o.done
	<-o.beatDone
	var held []int
	for _, p := range o.parts {
		if p.cc != nil {
			p.cc.Stop()
			p.cc = nil
			p.pulling.Store(false)
			if p.owned.Load() {
				held = append(held, p.n)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = o.kv.Delete(ctx, o.node)
	for _, p := range held {
		if err := o.stream.UnpinConsumer(ctx, ConsumerName(p), OwnerGroup); err != nil {
			break // JetStream is going away with this node: PinnedTTL does it
		}
	}
}
