// Command sfnd is the sfnd server and its tools.
//
//	sfnd serve      run a node (embedded NATS unless --nats-url)
//	sfnd bench      measure a node (its own, or --endpoint)
//	sfnd history    export, replay, verify or import histories
//	sfnd version    print the version
//	sfnd projections check or rebuild the read models
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"

	"github.com/sfnd/sfnd/actors/integrations"
	"github.com/sfnd/sfnd/api"
	"github.com/sfnd/sfnd/cmd/sfnd/app"
)

func main() {
	heapFloor(heapFloorFromEnv())
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "history":
		os.Exit(historyCmd(os.Args[2:]))
	case "projections":
		os.Exit(projectionsCmd(os.Args[2:], os.Stdout, os.Stderr))
	case "bench":
		err = benchCmd(os.Args[2:])
	case "version", "-version", "--version":
		fmt.Println(version())
		return
	case "cluster":
		os.Exit(clusterCmd(os.Args[2:]))
	case "help", "-h", "--help":
		usage()
		return
	default:
		fmt.Fprintf(os.Stderr, "sfnd: unknown command %q\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "sfnd: %v\n", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `usage: sfnd <command> [flags]

commands:
  serve    run the Step Functions API with embedded NATS (or --nats-url)
  bench    measure throughput and latency (--quick: about a minute)
  history  export, replay, verify or import execution histories (audits)
  version  print the version, commit and Go version
  projections  check or rebuild the read models from the streams
  cluster  status (nodes, partition owners, stream replicas and lag) or scale streams
`)
}

// version describes this binary: the module version (a tagged release, or "(devel)"
// for a build from a work tree), the commit it was built from and the Go release.
func version() string {
	v, commit, dirty := "(devel)", "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	out := "sfnd " + v
	if commit != "" {
		out += " commit " + commit
		if dirty {
			out += " (modified)"
		}
	}
	return out + " " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
}

// env returns the environment variable's value, or def.
func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	listen := fs.String("listen", env("SFND_LISTEN", "127.0.0.1:8083"), "HTTP listen address (SFND_LISTEN)")
	dataDir := fs.String("data-dir", env("SFND_DATA_DIR", "./data"), "data directory for the embedded NATS store (SFND_DATA_DIR)")
	natsURL := fs.String("nats-url", env("SFND_NATS_URL", ""), "use an external NATS server instead of the embedded one (SFND_NATS_URL)")
	natsPort, _ := strconv.Atoi(env("SFND_NATS_PORT", "0"))
	natsPortFlag := fs.Int("nats-port", natsPort, "embedded NATS client port: 0 in-process only, -1 any free port (SFND_NATS_PORT)")
	natsHost := fs.String("nats-host", env("SFND_NATS_HOST", "127.0.0.1"), "address the embedded NATS client port binds: 127.0.0.1 this machine only, 0.0.0.0 every interface (other hosts' tools and Glue workers) (SFND_NATS_HOST)")
	region := fs.String("region", env("SFND_REGION", "us-east-1"), "default region (SFND_REGION)")
	account := fs.String("account", env("SFND_ACCOUNT", "123456789012"), "account id of requests in development mode, without --credentials (SFND_ACCOUNT)")
	tlsCert := fs.String("tls-cert", env("SFND_TLS_CERT", ""), "serve HTTPS with this PEM certificate (chain); SIGHUP reloads it (SFND_TLS_CERT)")
	tlsKey := fs.String("tls-key", env("SFND_TLS_KEY", ""), "the PEM private key of --tls-cert (SFND_TLS_KEY)")
	credentials := fs.String("credentials", env("SFND_CREDENTIALS", ""), "AWS shared credentials file, one profile per caller with aws_access_key_id, aws_secret_access_key and aws_account_id: every request must be signed by one of them (SFND_CREDENTIALS)")
	scale, _ := strconv.ParseFloat(env("SFND_WAIT_TIME_SCALE", "1"), 64)
	waitScale := fs.Float64("wait-time-scale", scale, "multiply every timer delay by this factor, for tests (SFND_WAIT_TIME_SCALE)")
	lambdaEndpoint := fs.String("lambda-endpoint", env("SFND_LAMBDA_ENDPOINT", ""), "Lambda API endpoint for Lambda tasks, e.g. http://127.0.0.1:9001 (SFND_LAMBDA_ENDPOINT; default AWS)")
	mockConfig := fs.String("mock-config", env("SFN_MOCK_CONFIG", ""), "AWS Step Functions Local mock configuration file: start executions on <stateMachineArn>#<TestCase> (SFN_MOCK_CONFIG)")
	s3Root := fs.String("s3-local-root", env("SFND_S3_LOCAL_ROOT", ""), "keep s3://bucket/key objects (ItemReader, ResultWriter, Glue scripts) in the file DIR/bucket/key (SFND_S3_LOCAL_ROOT)")
	s3Endpoint := fs.String("s3-endpoint", env("SFND_S3_ENDPOINT", ""), "S3-compatible endpoint for s3:// objects, path-style (SFND_S3_ENDPOINT; default the SDK's AWS_ENDPOINT_URL_S3, else AWS S3)")
	endpoints := map[string]*string{}
	for _, id := range integrations.ServiceIDs() {
		if id == "lambda" || id == "s3" {
			continue // --lambda-endpoint above; S3 has the object store's --s3-endpoint
		}
		svc := integrations.Services[id]
		endpoints[id] = fs.String(id+"-endpoint", "", "endpoint of the "+id+" Task integrations (default: AWS_ENDPOINT_URL_"+
			svc.EnvID+", "+svc.LocalEnv+", AWS_ENDPOINT_URL, else AWS)")
	}
	pprofListen := fs.String("pprof-listen", env("SFND_PPROF_LISTEN", ""), "serve Go's net/http/pprof profiles (CPU, heap, goroutines) on this address, e.g. 127.0.0.1:6060; never on a public address (SFND_PPROF_LISTEN)")
	logLevel := fs.String("log-level", env("SFND_LOG_LEVEL", "info"), "debug, info, warn or error (SFND_LOG_LEVEL)")
	nodeName := fs.String("node-name", env("SFND_NODE_NAME", ""), "this node's name, unique in the cluster and kept across restarts (SFND_NODE_NAME)")
	clusterName := fs.String("cluster-name", env("SFND_CLUSTER_NAME", "sfnd"), "NATS cluster name (SFND_CLUSTER_NAME)")
	clusterListen := fs.String("cluster-listen", env("SFND_CLUSTER_LISTEN", ""), "HOST:PORT the embedded NATS server listens on for the other nodes' routes; turns cluster mode on (SFND_CLUSTER_LISTEN)")
	clusterRoutes := fs.String("cluster-routes", env("SFND_CLUSTER_ROUTES", ""), "the other nodes' route URLs, nats://host:port,... (SFND_CLUSTER_ROUTES)")
	replicas, _ := strconv.Atoi(env("SFND_REPLICAS", "1"))
	replicasFlag := fs.Int("replicas", replicas, "JetStream replicas of every stream and bucket sfnd creates; at most the cluster's size (SFND_REPLICAS)")
	var auth app.NATSAuth
	fs.StringVar(&auth.Context, "nats-context", env("SFND_NATS_CONTEXT", ""), "NATS CLI context (name or file) for --nats-url's settings and credentials (SFND_NATS_CONTEXT)")
	fs.StringVar(&auth.Creds, "nats-creds", env("SFND_NATS_CREDS", ""), "NATS user credentials file (SFND_NATS_CREDS)")
	fs.StringVar(&auth.NKey, "nats-nkey", env("SFND_NATS_NKEY", ""), "NATS nkey seed file (SFND_NATS_NKEY)")
	fs.StringVar(&auth.User, "nats-user", env("SFND_NATS_USER", ""), "NATS user; with the embedded NATS listening: the user it requires (default sfnd) (SFND_NATS_USER)")
	fs.StringVar(&auth.Password, "nats-password", env("SFND_NATS_PASSWORD", ""), "NATS password; with the embedded NATS listening: the password clients and routes must give, the same on every node (default: generated into <data-dir>/nats-password) (SFND_NATS_PASSWORD)")
	fs.StringVar(&auth.Token, "nats-token", env("SFND_NATS_TOKEN", ""), "NATS token (SFND_NATS_TOKEN)")
	fs.StringVar(&auth.TLSCert, "nats-tls-cert", env("SFND_NATS_TLS_CERT", ""), "NATS client certificate; with the embedded NATS listening: its certificate, TLS required from clients and routes (SFND_NATS_TLS_CERT)")
	fs.StringVar(&auth.TLSKey, "nats-tls-key", env("SFND_NATS_TLS_KEY", ""), "key of --nats-tls-cert (SFND_NATS_TLS_KEY)")
	fs.StringVar(&auth.TLSCA, "nats-tls-ca", env("SFND_NATS_TLS_CA", ""), "CA bundle of the NATS servers' certificates (with the embedded NATS: of the other nodes' route certificates) (SFND_NATS_TLS_CA)")
	workerPassword := fs.String("nats-worker-password", env("SFND_NATS_WORKER_PASSWORD", ""), "with the embedded NATS listening: admit outside Glue workers as NATS user glue-worker with this password; they reach the GLUE_WORK queue only (SFND_NATS_WORKER_PASSWORD)")
	glueWork := glueFlags(fs)
	_ = fs.Parse(args)
	gw, err := glueWork()
	if err != nil {
		return err
	}
	var routes []string
	for _, r := range strings.Split(*clusterRoutes, ",") {
		if r = strings.TrimSpace(r); r != "" {
			routes = append(routes, r)
		}
	}

	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	exitWithParent()
	servePprof(*pprofListen, logger)
	var creds *api.Credentials
	if *credentials != "" {
		var err error
		if creds, err = api.LoadCredentials(*credentials); err != nil {
			return err
		}
	}
	cfg := app.Config{
		Listen: *listen, DataDir: *dataDir, NatsURL: *natsURL, NATSPort: *natsPortFlag, NATSHost: *natsHost,
		Region: *region, Account: *account, WaitTimeScale: *waitScale, Logger: logger,
		LambdaEndpoint: *lambdaEndpoint, MockConfig: *mockConfig, GlueWork: gw, Endpoints: map[string]string{"s3": *s3Endpoint},
		S3LocalRoot: *s3Root, S3Endpoint: *s3Endpoint,
		NodeName: *nodeName, ClusterName: *clusterName, ClusterListen: *clusterListen, ClusterRoutes: routes,
		Replicas: *replicasFlag, NATSAuth: auth, NATSWorkerPassword: *workerPassword,
		Credentials: creds, TLSCert: *tlsCert, TLSKey: *tlsKey,
	}
	for id, e := range endpoints {
		cfg.Endpoints[id] = *e
	}
	a, err := app.Start(ctx, cfg)
	if err != nil {
		return err
	}
	authDesc := "development mode: requests are not authenticated, any credentials act in account " + *account
	if creds != nil {
		authDesc = fmt.Sprintf("SigV4 required: %d identities from %s", creds.Len(), *credentials)
	}
	logger.Info("sfnd listening", "endpoint", a.Endpoint(), "console", a.Endpoint()+"/", "dataDir", *dataDir, "nats", natsDesc(a, *natsURL), "region", *region, "objects", a.Objects.Describe(), "auth", authDesc)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for done := false; !done; {
		select {
		case <-hup:
			if err := a.ReloadTLS(); err != nil {
				logger.Error("reload TLS certificate (the previous one stays in use)", "err", err)
			} else if *tlsCert != "" {
				logger.Info("reloaded TLS certificate", "cert", *tlsCert)
			}
		case <-ctx.Done():
			done = true
		}
	}
	logger.Info("shutting down")
	a.Close()
	return nil
}

func natsDesc(a *app.App, url string) string {
	if url != "" {
		return redactURLs(url) // no password in logs
	}
	if u := a.NATSPublicURL(); u != "" {
		return "embedded " + u + " (clients and routes need sfnd's NATS credentials: --nats-password, else <data-dir>/" + app.NATSPasswordFile + ")"
	}
	return "embedded (in-process)"
}
