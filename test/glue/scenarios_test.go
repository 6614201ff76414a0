package glue

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sfnd/sfnd/test/testutil"
)

// TestScenarios runs the GLUE.md §6 acceptance scenarios in testdata/scenarios: each
// s*.py is a boto3 program against one shared node (names are prefixed per scenario),
// with pythonshell fixture jobs that really run.
func TestScenarios(t *testing.T) {
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		t.Skip("python3 with boto3 is not installed")
	}
	files, err := filepath.Glob("testdata/scenarios/s*.py")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	s3root := t.TempDir()
	// Glue job timeouts run 20x faster (scenario 16's Timeout=1 is 3 s).
	a := testutil.Start(t, testutil.Options{S3LocalRoot: s3root, GlueTimeScale: 0.05})
	fixtures := t.TempDir()
	dir, _ := filepath.Abs("testdata/scenarios")
	for _, f := range files {
		base := strings.TrimSuffix(filepath.Base(f), ".py")
		t.Run(base, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "python3", filepath.Join(dir, base+".py"))
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "SFND_ENDPOINT="+a.Endpoint(), "SFND_FIXTURES="+fixtures, "SFND_S3_ROOT="+s3root,
				"SFND_PREFIX="+strings.ReplaceAll(base, "_", "-"), "PYTHONPATH="+dir, "PYTHONDONTWRITEBYTECODE=1",
				"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION=us-east-1")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", base, err, out)
			}
		})
	}
}
