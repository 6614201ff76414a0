package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sfnd/sfnd/actors"
	"github.com/sfnd/sfnd/events/jsstore"
)

// connect starts the embedded NATS server (joining its cluster when configured) or
// dials the external one, and opens the node's connection.
func (a *App) connect() error {
	cfg := a.cfg
	if cfg.NatsURL == "" {
		ec := jsstore.EmbeddedConfig{
			StoreDir: filepath.Join(cfg.DataDir, "jetstream"), Port: cfg.NATSPort, Host: cfg.NATSHost, ServerName: cfg.NodeName, Logger: cfg.Logger,
			ClusterListen: cfg.ClusterListen, ClusterName: cfg.ClusterName, Routes: cfg.ClusterRoutes,
		}
		if cfg.ClusterListen == "" && len(cfg.ClusterRoutes) > 0 {
			return errors.New("--cluster-routes needs --cluster-listen (this node's own route address)")
		}
		if size := ec.ClusterSize(); cfg.Replicas > size {
			if cfg.ClusterListen == "" {
				return errors.Newf("--replicas %d needs a cluster: a single node keeps 1 replica (give --cluster-listen and --cluster-routes)", cfg.Replicas)
			}
			return errors.Newf("--replicas %d is more than the %d server(s) of the cluster (this node and --cluster-routes)", cfg.Replicas, size)
		}
		if err := lockDown(&ec, cfg); err != nil {
			return err
		}
		var err error
		if a.embedded, err = jsstore.StartEmbedded(ec); err != nil {
			return err
		}
		if cfg.ClusterListen != "" {
			cfg.Logger.Info("NATS cluster node started", "node", cfg.NodeName, "cluster", ec.ClusterName,
				"routes", strings.Join(cfg.ClusterRoutes, ","), "listen", cfg.ClusterListen)
		}
		a.nc, err = a.embedded.Connect("sfnd " + cfg.NodeName)
		return err
	}
	url, opts, err := natsOptions(cfg.NatsURL, cfg.NATSAuth)
	if err != nil {
		return err
	}
	if url == "" {
		return errors.New("no NATS URL: give --nats-url or a NATS context with one")
	}
	opts = append(opts, nats.Name("sfnd "+cfg.NodeName), nats.MaxReconnects(-1), nats.RetryOnFailedConnect(true),
		nats.ReconnectWait(250*time.Millisecond))
	a.nc, err = nats.Connect(url, opts...)
	return errors.Wrapf(err, "connect to %s", url)
}

// nodeName is the node's name among the nodes sharing the streams: --node-name, else
// host:HTTP port (unique on one machine and across machines).
func nodeName(cfg Config, endpoint string) string {
	if cfg.NodeName != "" {
		return cfg.NodeName
	}
	host, _ := os.Hostname()
	if host == "" {
		host = "sfnd"
	}
	if i := strings.LastIndexByte(endpoint, ':'); i >= 0 {
		return host + "-" + endpoint[i+1:]
	}
	return host
}

// reportReplicas logs the streams whose replica count is not --replicas, with the
// command that changes them.
func (a *App) reportReplicas() {
	mis := a.Store.ReplicaMismatches()
	for _, m := range mis {
		a.cfg.Logger.Warn("stream replicas differ from --replicas (sfnd never rescales a stream by itself)",
			"stream", m.Stream, "replicas", m.Have, "want", m.Want)
	}
	if len(mis) > 0 {
		a.cfg.Logger.Warn(fmt.Sprintf("to scale every sfnd stream: sfnd cluster scale --replicas %d --nats-url <a node's NATS URL>", a.cfg.Replicas))
	}
}

// ready is /readyz: this node can serve writes (JetStream answers, the history and
// command streams have leaders, the node pulls on every command partition it should
// own: Engine.NotPulling).
func (a *App) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	fail := func(why string) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "not ready: "+why+"\n")
	}
	if a.Engine == nil || a.Engine.OwnedPartitions() == nil {
		fail("starting")
		return
	}
	if _, err := a.Store.JS.AccountInfo(ctx); err != nil {
		fail("JetStream: " + err.Error())
		return
	}
	for _, name := range []string{jsstore.HistoryStream, jsstore.CommandStream} {
		st, err := a.Store.JS.Stream(ctx, name)
		if err != nil {
			fail(name + ": " + err.Error())
			return
		}
		if ci := st.CachedInfo().Cluster; ci != nil && ci.Leader == "" && a.Store.Replicas() > 1 {
			fail(name + " has no leader")
			return
		}
	}
	if np := a.Engine.NotPulling(); len(np) > 0 {
		fail(fmt.Sprintf("not consuming command partitions %v", np))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "ready\n")
}

// observe registers /readyz, /metrics and the gauges read at scrape time.
func (a *App) observe() {
	a.Edge.HandleGet("/readyz", http.HandlerFunc(a.ready))
	a.Edge.HandleGet("/metrics", a.Metrics.Handler())
	a.Metrics.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "sfnd_actors_resident", Help: "Execution actors resident in memory on this node.",
	}, func() float64 { return float64(a.Engine.Resident()) }))
	a.Metrics.Register(&scrapeCollector{a: a,
		owned: prometheus.NewDesc("sfnd_partition_owned", "1 when this node's client is pinned on the command partition.", []string{"partition"}, nil),
		depth: prometheus.NewDesc("sfnd_activity_queue_depth", "Activity tasks queued and not yet handed to a worker, by activity.", []string{"activity"}, nil),
		lag:   prometheus.NewDesc("sfnd_command_partition_pending", "Commands of the partition not yet delivered to its owner.", []string{"partition"}, nil),
	})
}

// scrapeCollector reads partition ownership and queue depths when scraped.
type scrapeCollector struct {
	a                 *App
	owned, depth, lag *prometheus.Desc
}

func (c *scrapeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.owned
	ch <- c.depth
	ch <- c.lag
}

func (c *scrapeCollector) Collect(ch chan<- prometheus.Metric) {
	for p, own := range c.a.Engine.OwnedPartitions() {
		v := 0.0
		if own {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(c.owned, prometheus.GaugeValue, v, strconv.Itoa(p))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if st, err := c.a.Store.JS.Stream(ctx, actors.ActivityStream); err == nil {
		if info, err := st.Info(ctx, jetstream.WithSubjectFilter(actors.ActivityPrefix+">")); err == nil {
			for subj, n := range info.State.Subjects {
				arn, err := jsstore.Untoken(strings.TrimPrefix(subj, actors.ActivityPrefix))
				if err != nil {
					continue
				}
				ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(n), arn)
			}
		}
	}
	// Side by side, each on its own bound: a consumer whose leader died with a node
	// answers nothing until another is elected (its partition is left out meanwhile).
	var wg sync.WaitGroup
	for p := range jsstore.Partitions {
		wg.Go(func() {
			pctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			cons, err := c.a.Store.CommandStream().Consumer(pctx, actors.ConsumerName(p))
			if err != nil {
				return
			}
			ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, float64(cons.CachedInfo().NumPending), strconv.Itoa(p))
		})
	}
	wg.Wait()
}
