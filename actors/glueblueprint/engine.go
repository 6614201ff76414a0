package glueblueprint

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/cockroachdb/errors"

	"github.com/sfnd/sfnd/actors/gluejob"
	"github.com/sfnd/sfnd/actors/gluepy"
)

// RunRequest is one StartBlueprintRun for Run.
type RunRequest struct {
	BlueprintName, RunId, ServiceLocation, ParameterSpec, Parameters, RoleArn, Region, Account string
}

// Invoker calls one Glue operation in-process (op "CreateJob", in the request body)
// and returns the response body or the AWS error.
type Invoker = func(ctx context.Context, op string, in any) (json.RawMessage, error)

// ServicePrefix is where sfnd keeps its copies of registered blueprint archives
// (Blueprint.BlueprintServiceLocation); they live in Config.StoreDir.
const ServicePrefix = "s3://sfnd-blueprints/"

// Config configures an Engine.
type Config struct {
	// Fetcher reads BlueprintLocation (file://, s3:// with a local root or endpoint).
	Fetcher gluejob.Fetcher
	// StoreDir keeps the registered archives (ServicePrefix maps to it).
	StoreDir string
	// Python is the interpreter for layout generators (default python3).
	Python string
	// Endpoint, Region and the credentials are what the layout's boto3 clients get
	// (AWS_ENDPOINT_URL_GLUE etc.), as for job scripts.
	Endpoint, Region             string
	AccessKeyID, SecretAccessKey string
	S3Endpoint                   string
	// LayoutTimeout bounds one layout generator run (default 5 minutes).
	LayoutTimeout time.Duration
	Logger        *slog.Logger
}

// Engine registers blueprints and runs them.
type Engine struct {
	cfg    Config
	pyPath string
}

// New prepares an Engine (it writes sfnd's awsglue package to a temporary directory).
func New(cfg Config) (*Engine, error) {
	if cfg.Fetcher == nil {
		cfg.Fetcher = gluejob.LocalFetcher{}
	}
	if cfg.Python == "" {
		cfg.Python = "python3"
	}
	if cfg.LayoutTimeout <= 0 {
		cfg.LayoutTimeout = 5 * time.Minute
	}
	if cfg.AccessKeyID == "" {
		cfg.AccessKeyID, cfg.SecretAccessKey = "sfnd", "sfnd"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.StoreDir == "" {
		return nil, errors.New("glueblueprint: no store directory")
	}
	if err := os.MkdirAll(cfg.StoreDir, 0o755); err != nil {
		return nil, errors.Wrap(err, "create blueprint store")
	}
	dir, err := os.MkdirTemp("", "sfnd-awsglue-bp-")
	if err != nil {
		return nil, errors.Wrap(err, "create awsglue package directory")
	}
	if _, err := gluepy.Install(dir); err != nil {
		return nil, err
	}
	return &Engine{cfg: cfg, pyPath: dir}, nil
}

// Close removes the engine's temporary files.
func (e *Engine) Close() { _ = os.RemoveAll(e.pyPath) }

// Register fetches and checks the archive at location, keeps a copy and returns
// blueprint.cfg's parameterSpec (compact JSON) and the copy's service location. An
// error's text is the Blueprint's ErrorMessage.
func (e *Engine) Register(ctx context.Context, name, location string) (parameterSpec, serviceLocation string, err error) {
	data, err := e.cfg.Fetcher.Fetch(ctx, location, MaxArchiveBytes)
	if err != nil {
		if errors.Is(err, gluejob.ErrNotFound) {
			return "", "", errors.Newf("Unable to access object at location %s", location)
		}
		return "", "", errors.Newf("Unable to access object at location %s: %v", location, err)
	}
	cfg, err := ParseArchive(data)
	if err != nil {
		return "", "", err
	}
	sum := sha256.Sum256(data)
	rel := url.PathEscape(name) + "/" + hex.EncodeToString(sum[:12]) + ".zip"
	p := filepath.Join(e.cfg.StoreDir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", "", errors.Wrap(err, "store blueprint archive")
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		return "", "", errors.Wrap(err, "store blueprint archive")
	}
	return cfg.ParameterSpec, ServicePrefix + rel, nil
}

// CheckParameters validates StartBlueprintRun's Parameters against parameterSpec; the
// error's text is the InvalidInputException message.
func (e *Engine) CheckParameters(parameterSpec, parameters string) error {
	_, err := ResolveParameters(parameterSpec, parameters)
	return err
}

// Layout is what a layout generator produced: Workflow.to_json's result, in the Glue
// API's request shapes.
type Layout struct {
	Workflow map[string]any   `json:"Workflow"`
	Crawlers []map[string]any `json:"Crawlers"`
	Jobs     []map[string]any `json:"Jobs"`
	Triggers []map[string]any `json:"Triggers"`
}

// Run runs the blueprint's layout generator and creates its entities through glue,
// deleting what it created, in reverse order, when a step fails. It returns the
// workflow's name, or the failure (errMsg) and what went wrong while rolling back.
func (e *Engine) Run(ctx context.Context, run RunRequest, glue Invoker) (workflowName, errMsg, rollbackErr string) {
	layout, err := e.Layout(ctx, run)
	if err != nil {
		return "", err.Error(), ""
	}
	return materialise(ctx, run, layout, glue)
}

// Layout runs the layout generator of a registered blueprint.
func (e *Engine) Layout(ctx context.Context, run RunRequest) (*Layout, error) {
	params, err := ResolveParameters(run.ParameterSpec, run.Parameters)
	if err != nil {
		return nil, err
	}
	data, err := e.archive(ctx, run.ServiceLocation)
	if err != nil {
		return nil, err
	}
	cfg, err := ParseArchive(data)
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "sfnd-blueprint-run-")
	if err != nil {
		return nil, errors.Wrap(err, "blueprint run directory")
	}
	defer func() { _ = os.RemoveAll(work) }()
	root := filepath.Join(work, "archive")
	if err := extract(data, root); err != nil {
		return nil, err
	}
	input, err := json.Marshal(map[string]any{
		"user":   params,
		"system": map[string]any{"region": run.Region, "accountId": run.Account},
	})
	if err != nil {
		return nil, errors.Wrap(err, "encode layout parameters")
	}
	files := map[string][]byte{"harness.py": []byte(harness), "params.json": input}
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(work, n), b, 0o644); err != nil {
			return nil, errors.Wrap(err, "blueprint run directory")
		}
	}
	suffix := nameSuffix(run.RunId)
	ctx, cancel := context.WithTimeout(ctx, e.cfg.LayoutTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.cfg.Python, filepath.Join(work, "harness.py"), root, cfg.LayoutGenerator,
		filepath.Join(work, "params.json"), filepath.Join(work, "result.json"), filepath.Join(work, "error.txt"), suffix)
	cmd.Dir = root
	cmd.Env = e.env(root)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	runErr := cmd.Run()
	if ctx.Err() != nil {
		return nil, errors.Newf("The layout generator %s did not finish within %s", cfg.LayoutGenerator, e.cfg.LayoutTimeout)
	}
	if runErr != nil {
		msg, _ := os.ReadFile(filepath.Join(work, "error.txt"))
		if len(msg) == 0 {
			msg = out.Bytes()
			if len(msg) > 2048 {
				msg = msg[len(msg)-2048:]
			}
		}
		e.cfg.Logger.Info("blueprint layout failed", "blueprint", run.BlueprintName, "runId", run.RunId, "output", out.String())
		return nil, errors.Newf("The layout generator %s failed: %s", cfg.LayoutGenerator, strings.TrimSpace(string(msg)))
	}
	raw, err := os.ReadFile(filepath.Join(work, "result.json"))
	if err != nil {
		return nil, errors.Newf("The layout generator %s produced no result", cfg.LayoutGenerator)
	}
	var l Layout
	if err := json.Unmarshal(raw, &l); err != nil {
		return nil, errors.Newf("The layout generator's result is not a workflow: %v", err)
	}
	if name, _ := l.Workflow["Name"].(string); name == "" {
		return nil, errors.New("The layout generator's workflow has no Name")
	}
	return &l, nil
}

func (e *Engine) archive(ctx context.Context, location string) ([]byte, error) {
	if rel, ok := strings.CutPrefix(location, ServicePrefix); ok {
		p := filepath.Join(e.cfg.StoreDir, filepath.FromSlash(path.Clean("/"+rel)))
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, errors.Newf("Unable to access object at location %s", location)
		}
		return data, nil
	}
	data, err := e.cfg.Fetcher.Fetch(ctx, location, MaxArchiveBytes)
	if err != nil {
		return nil, errors.Newf("Unable to access object at location %s", location)
	}
	return data, nil
}

func (e *Engine) env(root string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(kv, "PYTHONPATH=") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"AWS_REGION="+e.cfg.Region, "AWS_DEFAULT_REGION="+e.cfg.Region,
		"AWS_ACCESS_KEY_ID="+e.cfg.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+e.cfg.SecretAccessKey,
		"PYTHONPATH="+e.pyPath+string(os.PathListSeparator)+root, "PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1",
	)
	if e.cfg.Endpoint != "" {
		env = append(env, "AWS_ENDPOINT_URL_GLUE="+e.cfg.Endpoint, "AWS_ENDPOINT_URL_SFN="+e.cfg.Endpoint)
	}
	if e.cfg.S3Endpoint != "" {
		env = append(env, "AWS_ENDPOINT_URL_S3="+e.cfg.S3Endpoint)
	}
	return env
}

// extract unpacks the archive under dir, refusing unsafe paths and more than
// MaxUncompressedBytes.
func extract(data []byte, dir string) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return errors.Newf("The blueprint archive is not a valid ZIP file: %v", err)
	}
	var total int64
	for _, f := range zr.File {
		name, err := cleanName(f.Name)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(name))
		if f.FileInfo().IsDir() {
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return errors.Wrap(err, "extract blueprint archive")
			}
			continue
		}
		if !f.Mode().IsRegular() {
			continue // no symlinks or devices
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return errors.Wrap(err, "extract blueprint archive")
		}
		rc, err := f.Open()
		if err != nil {
			return errors.Newf("Cannot read %s from the blueprint archive: %v", f.Name, err)
		}
		w, err := os.Create(dst)
		if err != nil {
			_ = rc.Close()
			return errors.Wrap(err, "extract blueprint archive")
		}
		n, err := io.Copy(w, io.LimitReader(rc, MaxUncompressedBytes-total+1))
		_ = rc.Close()
		_ = w.Close()
		total += n
		if err != nil {
			return errors.Newf("Cannot read %s from the blueprint archive: %v", f.Name, err)
		}
		if total > MaxUncompressedBytes {
			return errors.New("The blueprint archive holds more than 5 MB uncompressed")
		}
	}
	return nil
}

// nameSuffix is what the run appends to job and crawler names: derived from the run
// id, so a repeated run of the same id names the same entities.
func nameSuffix(runID string) string {
	sum := sha256.Sum256([]byte(runID))
	return hex.EncodeToString(sum[:4])
}

// entity is one created resource, for the rollback.
type entity struct{ kind, name string }

// materialise creates the layout's crawlers, jobs, workflow and triggers, in that
// order, and deletes what it created, in reverse order, when one fails.
func materialise(ctx context.Context, run RunRequest, l *Layout, glue Invoker) (workflowName, errMsg, rollbackErr string) {
	wfName, _ := l.Workflow["Name"].(string)
	var created []entity
	create := func(kind, op string, body map[string]any) error {
		name, _ := body["Name"].(string)
		if _, err := glue(ctx, op, body); err != nil {
			return errors.Newf("%s %s failed: %s", op, name, errText(err))
		}
		created = append(created, entity{kind, name})
		return nil
	}
	err := func() error {
		for _, c := range l.Crawlers {
			if err := create("crawler", "CreateCrawler", c); err != nil {
				return err
			}
		}
		for _, j := range l.Jobs {
			if err := create("job", "CreateJob", j); err != nil {
				return err
			}
		}
		wf := map[string]any{}
		for k, v := range l.Workflow {
			wf[k] = v
		}
		wf["BlueprintDetails"] = map[string]any{"BlueprintName": run.BlueprintName, "RunId": run.RunId}
		if err := create("workflow", "CreateWorkflow", wf); err != nil {
			return err
		}
		for _, t := range l.Triggers {
			if err := create("trigger", "CreateTrigger", t); err != nil {
				return err
			}
		}
		return nil
	}()
	if err == nil {
		return wfName, "", ""
	}
	// Roll back with a context of its own: the run's may be what failed.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	var rbErrs []string
	for i := len(created) - 1; i >= 0; i-- {
		c := created[i]
		var op string
		var in map[string]any
		switch c.kind {
		case "trigger":
			op, in = "DeleteTrigger", map[string]any{"Name": c.name}
		case "workflow":
			op, in = "DeleteWorkflow", map[string]any{"Name": c.name}
		case "job":
			op, in = "DeleteJob", map[string]any{"JobName": c.name}
		case "crawler":
			op, in = "DeleteCrawler", map[string]any{"Name": c.name}
		}
		if _, derr := glue(rctx, op, in); derr != nil {
			rbErrs = append(rbErrs, fmt.Sprintf("%s %s failed: %s", op, c.name, errText(derr)))
		}
	}
	return "", err.Error(), strings.Join(rbErrs, "; ")
}

// errText is an error's message (a Glue fault reads "Code: message").
func errText(err error) string { return err.Error() }

// harness runs a layout generator: argv = archive root, generator, params file,
// result file, error file, name suffix.
const harness = `import importlib, json, sys, traceback
root, generator, params_file, result_file, error_file, suffix = sys.argv[1:7]
sys.path.insert(0, root)
try:
    with open(params_file) as f:
        params = json.load(f)
    module_name, _, fn_name = generator.rpartition(".")
    fn = getattr(importlib.import_module(module_name), fn_name)
    workflow = fn(params["user"], params["system"])
    from awsglue.blueprint.workflow import Workflow
    if not isinstance(workflow, Workflow):
        raise TypeError("the layout generator returned %s, not an awsglue.blueprint.workflow.Workflow" % type(workflow).__name__)
    result = workflow.to_json(suffix)
    with open(result_file, "w") as f:
        json.dump(result, f)
except BaseException as e:
    traceback.print_exc()
    with open(error_file, "w") as f:
        f.write("".join(traceback.format_exception_only(type(e), e)).strip())
    sys.exit(1)
`
