package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfnd/sfnd/actors"
	"github.com/sfnd/sfnd/events/jsstore"
)

const clusterUsage = `usage: sfnd cluster <command> [flags]

commands:
  status   nodes, command partition owners, stream replicas, leaders and lag
  scale    set the replica count of every stream and bucket sfnd created:
           sfnd cluster scale --replicas 3 --nats-url nats://127.0.0.1:4222

flags:
  --nats-url URL   any node's NATS client URL (sfnd serve --nats-port), or the
                   external NATS cluster's (SFND_NATS_URL)
  --json           status as JSON
`

// clusterCmd runs `sfnd cluster ...`; it returns the exit code.
func clusterCmd(args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(os.Stderr, clusterUsage)
		return 2
	}
	fs := flag.NewFlagSet("cluster "+args[0], flag.ContinueOnError)
	natsURL := fs.String("nats-url", env("SFND_NATS_URL", "nats://127.0.0.1:4222"), "NATS URL of the cluster (SFND_NATS_URL)")
	asJSON := fs.Bool("json", false, "print the status as JSON")
	replicas := fs.Int("replicas", 0, "replica count (scale)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	nc, err := toolNATS(*natsURL, "sfnd-cluster")
	if err != nil {
		fmt.Fprintf(os.Stderr, "sfnd cluster: %v\n", err)
		return 1
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sfnd cluster: %v\n", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	switch args[0] {
	case "status":
		st, err := clusterStatus(ctx, js)
		if err != nil {
			fmt.Fprintf(os.Stderr, "sfnd cluster status: %v\n", err)
			return 1
		}
		if *asJSON {
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", "  ")
			_ = enc.Encode(st)
		} else {
			st.print(os.Stdout)
		}
		return 0
	case "scale":
		if *replicas < 1 {
			fmt.Fprintln(os.Stderr, "sfnd cluster scale: --replicas N (N >= 1) is required")
			return 2
		}
		changed, err := jsstore.ScaleStreams(ctx, js, *replicas)
		for _, c := range changed {
			fmt.Printf("%s: %d -> %d replica(s)\n", c.Stream, c.Have, c.Want)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "sfnd cluster scale: %v\n", err)
			return 1
		}
		if len(changed) == 0 {
			fmt.Printf("every sfnd stream already has %d replica(s)\n", *replicas)
		}
		return 0
	default:
		fmt.Fprintf(os.Stderr, "sfnd cluster: unknown command %q\n%s", args[0], clusterUsage)
		return 2
	}
}

// ClusterStatus is what `sfnd cluster status` reports.
type ClusterStatus struct {
	Nodes      []actors.NodeRecord `json:"nodes"`
	Partitions []PartitionStatus   `json:"partitions"`
	Streams    []StreamStatus      `json:"streams"`
}

// PartitionStatus is one command partition: its pinned owner and its backlog.
type PartitionStatus struct {
	Partition  int    `json:"partition"`
	Owner      string `json:"owner,omitempty"` // node name; empty when no client is pinned
	Preferred  string `json:"preferred,omitempty"`
	Pending    uint64 `json:"pending"`     // commands not yet delivered
	AckPending int    `json:"ack_pending"` // delivered, not yet acknowledged
}

// StreamStatus is one stream sfnd created: its replicas and how far each lags.
type StreamStatus struct {
	Name     string          `json:"name"`
	Replicas int             `json:"replicas"`
	Messages uint64          `json:"messages"`
	Leader   string          `json:"leader,omitempty"`
	Peers    []ReplicaStatus `json:"peers,omitempty"`
}

// ReplicaStatus is one follower of a stream.
type ReplicaStatus struct {
	Name    string `json:"name"`
	Current bool   `json:"current"`
	Offline bool   `json:"offline,omitempty"`
	Lag     uint64 `json:"lag"`
}

// requestBound bounds each JetStream request of `sfnd cluster status`.
const requestBound = 2 * time.Second

// leaderless names a failed info request: a timeout means no leader answered.
func leaderless(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "no leader answered"
	}
	return err.Error()
}

func clusterStatus(ctx context.Context, js jetstream.JetStream) (*ClusterStatus, error) {
	st := &ClusterStatus{}
	pinOwner := map[string]string{}
	var live []string
	if kv, err := js.KeyValue(ctx, actors.NodesBucket); err == nil {
		if keys, err := kv.ListKeys(ctx); err == nil {
			for k := range keys.Keys() {
				e, err := kv.Get(ctx, k)
				if err != nil {
					continue
				}
				var rec actors.NodeRecord
				if json.Unmarshal(e.Value(), &rec) == nil {
					st.Nodes = append(st.Nodes, rec)
					live = append(live, rec.Name)
					for _, pin := range rec.Pins {
						pinOwner[pin] = rec.Name
					}
				}
			}
		}
	}
	slices.SortFunc(st.Nodes, func(a, b actors.NodeRecord) int { return strings.Compare(a.Name, b.Name) })
	slices.Sort(live)
	cmds, err := js.Stream(ctx, jsstore.CommandStream)
	if err != nil {
		return nil, fmt.Errorf("command stream: %w", err)
	}
	// One bound per request, side by side: a consumer or stream whose leader died
	// with a node answers nothing until its RAFT group elects another, and must not
	// hold up the rest.
	st.Partitions = make([]PartitionStatus, jsstore.Partitions)
	var wg sync.WaitGroup
	for p := range jsstore.Partitions {
		ps := &st.Partitions[p]
		*ps = PartitionStatus{Partition: p, Preferred: actors.PreferredNode(live, p)}
		wg.Go(func() {
			rctx, cancel := context.WithTimeout(ctx, requestBound)
			defer cancel()
			c, err := cmds.Consumer(rctx, actors.ConsumerName(p))
			if err != nil {
				ps.Owner = "? (" + leaderless(err) + ")"
				return
			}
			ci := c.CachedInfo()
			ps.Pending, ps.AckPending = ci.NumPending, ci.NumAckPending
			for _, g := range ci.PriorityGroups {
				if g.Group == actors.OwnerGroup && g.PinnedClientID != "" {
					ps.Owner = pinOwner[g.PinnedClientID]
					if ps.Owner == "" {
						ps.Owner = "pin " + g.PinnedClientID
					}
				}
			}
		})
	}
	var all []string
	for n := range js.StreamNames(ctx).Name() {
		if jsstore.OwnStream(n) {
			all = append(all, n)
		}
	}
	slices.Sort(all)
	st.Streams = make([]StreamStatus, len(all))
	for i, n := range all {
		ss := &st.Streams[i]
		*ss = StreamStatus{Name: n}
		wg.Go(func() {
			rctx, cancel := context.WithTimeout(ctx, requestBound)
			defer cancel()
			s, err := js.Stream(rctx, n)
			if err != nil {
				ss.Leader = "? (" + leaderless(err) + ")"
				return
			}
			info := s.CachedInfo()
			ss.Replicas, ss.Messages = max(info.Config.Replicas, 1), info.State.Msgs
			if c := info.Cluster; c != nil {
				ss.Leader = c.Leader
				for _, r := range c.Replicas {
					ss.Peers = append(ss.Peers, ReplicaStatus{Name: r.Name, Current: r.Current, Offline: r.Offline, Lag: r.Lag})
				}
			}
		})
	}
	wg.Wait()
	return st, nil
}

func (st *ClusterStatus) print(out io.Writer) {
	w := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintf(w, "NODE\tENDPOINT\tUP SINCE\tSEEN\tOWNS\tRESIDENT\n")
	for _, n := range st.Nodes {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s ago\t%s\t%d\n", n.Name, n.Endpoint, n.Started.Format(time.RFC3339),
			time.Since(n.Updated).Round(100*time.Millisecond), ints(n.Owned), n.Resident)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "PARTITION\tOWNER\tPREFERRED\tPENDING\tACK PENDING\n")
	for _, p := range st.Partitions {
		owner := p.Owner
		if owner == "" {
			owner = "-"
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%d\t%d\n", p.Partition, owner, p.Preferred, p.Pending, p.AckPending)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "STREAM\tREPLICAS\tMESSAGES\tLEADER\tFOLLOWERS (lag)\n")
	for _, s := range st.Streams {
		var peers []string
		for _, p := range s.Peers {
			state := "current"
			if p.Offline {
				state = "offline"
			} else if !p.Current {
				state = "catching up"
			}
			peers = append(peers, fmt.Sprintf("%s %s %d", p.Name, state, p.Lag))
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%s\t%s\n", s.Name, s.Replicas, s.Messages, s.Leader, strings.Join(peers, ", "))
	}
	_ = w.Flush()
}

func ints(xs []int) string {
	if len(xs) == 0 {
		return "-"
	}
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}
