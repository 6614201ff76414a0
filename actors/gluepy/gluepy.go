// Package gluepy ships sfnd's own `awsglue` Python package inside the binary:
// awsglue.utils.getResolvedOptions for job scripts and the awsglue.blueprint classes
// (Workflow, Entities, Job, Crawler, DependsOn, WaitForDependencies, OnSchedule) for
// blueprint layouts. AWS's library is not installable here (not on PyPI), so sfnd
// writes this one to a directory and puts it on PYTHONPATH of the processes it runs.
package gluepy

import (
	"embed"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/cockroachdb/errors"
)

//go:embed awsglue
var files embed.FS

// Install writes the awsglue package under dir (dir/awsglue/...) and returns dir, the
// directory to put on PYTHONPATH. Existing files are overwritten.
func Install(dir string) (string, error) {
	err := fs.WalkDir(files, "awsglue", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(path))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := files.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		return "", errors.Wrapf(err, "install the awsglue python package in %s", dir)
	}
	return dir, nil
}
