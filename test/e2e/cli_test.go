package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestCLIScript runs cli_test.sh: the built binary driven by the AWS CLI and boto3.
// It is skipped when aws, python3 or boto3 is missing.
func TestCLIScript(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the AWS CLI")
	}
	for _, tool := range []string{"bash", "aws", "python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not on PATH", tool)
		}
	}
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		t.Skip("python3 has no boto3")
	}
	bin := buildSfnd(t)
	cmd := exec.Command("bash", "cli_test.sh")
	cmd.Env = append(os.Environ(), "SFND_BIN="+bin, "TMPDIR="+t.TempDir())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	last := lines[len(lines)-1]
	m := regexp.MustCompile(`^(\d+) passed, (\d+) failed$`).FindStringSubmatch(last)
	if err != nil || m == nil || m[2] != "0" {
		t.Fatalf("cli_test.sh: %v\n%s", err, out.String())
	}
	t.Logf("cli_test.sh: %s", last)
}

// TestCLIHelpAndVersion: `sfnd version` names the build, and asking a subcommand for
// its usage prints it and exits 0.
func TestCLIHelpAndVersion(t *testing.T) {
	t.Parallel()
	bin := buildSfnd(t)
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || !regexp.MustCompile(`^sfnd \S+.* go1\.\d+`).Match(out) {
		t.Fatalf("sfnd version: %v %q", err, out)
	}
	for _, args := range [][]string{{"history", "export", "--help"}, {"history", "verify", "-h"}, {"history", "--help"}, {"help"}} {
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "sfnd") || !strings.Contains(strings.ToLower(string(out)), "usage") {
			t.Fatalf("sfnd %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	if err := exec.Command(bin, "history", "export", "--no-such-flag").Run(); err == nil {
		t.Fatal("an unknown flag exits 0")
	}
}
