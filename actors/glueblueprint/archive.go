// Package glueblueprint runs AWS Glue blueprints for sfnd (GLUE.md §5): it checks a
// blueprint archive (blueprint.cfg, layout module), validates StartBlueprintRun
// parameters against its parameterSpec, runs the layout generator in a python3
// subprocess against sfnd's own awsglue.blueprint package, and creates the resulting
// crawlers, jobs, workflow and triggers through the Glue operations, deleting them
// again in reverse order when anything fails.
package glueblueprint

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/cockroachdb/errors"
)

// Archive limits [DG:developing-blueprints-code].
const (
	MaxArchiveBytes      = 1 << 20 // compressed
	MaxUncompressedBytes = 5 << 20
)

// ParamSpec is one entry of blueprint.cfg's parameterSpec.
type ParamSpec struct {
	Type          string            `json:"type"`
	Collection    bool              `json:"collection,omitempty"`
	Description   string            `json:"description,omitempty"`
	DefaultValue  json.RawMessage   `json:"defaultValue,omitempty"`
	AllowedValues []json.RawMessage `json:"allowedValues,omitempty"`
}

// Archive is a checked blueprint archive: its parsed blueprint.cfg.
type Archive struct {
	LayoutGenerator string
	// ParameterSpec is the parameterSpec object as compact JSON text (what
	// Blueprint.ParameterSpec reports).
	ParameterSpec string
	Params        map[string]ParamSpec
	// Root is the folder of blueprint.cfg inside the archive ("" or "bp/").
	Root string
}

var paramTypes = map[string]bool{
	"String": true, "Integer": true, "Double": true, "Boolean": true,
	"S3Uri": true, "S3Bucket": true, "IAMRoleArn": true, "IAMRoleName": true,
}

var generatorRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$`)

// ParseArchive checks a blueprint archive and returns its configuration. Errors read
// as Blueprint.ErrorMessage.
func ParseArchive(data []byte) (*Archive, error) {
	if len(data) > MaxArchiveBytes {
		return nil, errors.Newf("The blueprint archive is %d bytes; the limit is %d bytes (1 MB)", len(data), MaxArchiveBytes)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, errors.Newf("The blueprint archive is not a valid ZIP file: %v", err)
	}
	var total uint64
	names := map[string]*zip.File{}
	var cfgs []string
	for _, f := range zr.File {
		total += f.UncompressedSize64
		if _, err := cleanName(f.Name); err != nil {
			return nil, err
		}
		names[path.Clean(f.Name)] = f
		if path.Base(f.Name) == "blueprint.cfg" && !f.FileInfo().IsDir() {
			cfgs = append(cfgs, path.Clean(f.Name))
		}
	}
	if total > MaxUncompressedBytes {
		return nil, errors.Newf("The blueprint archive holds %d bytes uncompressed; the limit is %d bytes (5 MB)", total, MaxUncompressedBytes)
	}
	// The shallowest blueprint.cfg, at the root or in one top folder.
	sort.Slice(cfgs, func(i, j int) bool { return strings.Count(cfgs[i], "/") < strings.Count(cfgs[j], "/") })
	if len(cfgs) == 0 || strings.Count(cfgs[0], "/") > 1 {
		return nil, errors.New("The blueprint archive has no blueprint.cfg (at its root or in its top folder)")
	}
	raw, err := readZip(names[cfgs[0]])
	if err != nil {
		return nil, err
	}
	var cfg struct {
		LayoutGenerator *string         `json:"layoutGenerator"`
		ParameterSpec   json.RawMessage `json:"parameterSpec"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, errors.Newf("blueprint.cfg is not valid JSON: %v", err)
	}
	if cfg.LayoutGenerator == nil || !generatorRe.MatchString(*cfg.LayoutGenerator) {
		return nil, errors.New("blueprint.cfg needs layoutGenerator, the fully qualified name of the layout function (e.g. \"mybp.layout.generate_layout\")")
	}
	out := &Archive{LayoutGenerator: *cfg.LayoutGenerator, Params: map[string]ParamSpec{}}
	if dir := path.Dir(cfgs[0]); dir != "." {
		out.Root = dir + "/"
	}
	spec := cfg.ParameterSpec
	if len(spec) == 0 || string(spec) == "null" {
		spec = json.RawMessage("{}")
	}
	if err := json.Unmarshal(spec, &out.Params); err != nil {
		return nil, errors.Newf("blueprint.cfg's parameterSpec must map parameter names to {type, collection, description, defaultValue, allowedValues}: %v", err)
	}
	for name, p := range out.Params {
		if !paramTypes[p.Type] {
			return nil, errors.Newf("blueprint.cfg: parameter %s has type %q; allowed types are String, Integer, Double, Boolean, S3Uri, S3Bucket, IAMRoleArn, IAMRoleName", name, p.Type)
		}
		if len(p.DefaultValue) > 0 {
			if err := checkValue(name, p, p.DefaultValue, false); err != nil {
				return nil, errors.Newf("blueprint.cfg: defaultValue of %s: %v", name, err)
			}
		}
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, spec); err != nil {
		return nil, errors.Newf("blueprint.cfg's parameterSpec: %v", err)
	}
	out.ParameterSpec = compact.String()
	// The layout generator's module is a file of the archive, relative to its root (as
	// Python imports it with the archive's root on sys.path).
	modPath := strings.ReplaceAll(out.LayoutGenerator[:strings.LastIndex(out.LayoutGenerator, ".")], ".", "/")
	if names[modPath+".py"] == nil && names[modPath+"/__init__.py"] == nil {
		return nil, errors.Newf("layoutGenerator %s names module %s, but the archive has no %s.py", out.LayoutGenerator, strings.ReplaceAll(modPath, "/", "."), modPath)
	}
	return out, nil
}

func cleanName(name string) (string, error) {
	c := path.Clean(name)
	if strings.HasPrefix(name, "/") || c == ".." || strings.HasPrefix(c, "../") || strings.Contains(name, `\`) {
		return "", errors.Newf("The blueprint archive holds an unsafe path %q", name)
	}
	return c, nil
}

func readZip(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, errors.Newf("Cannot read %s from the blueprint archive: %v", f.Name, err)
	}
	defer func() { _ = rc.Close() }()
	data, err := io.ReadAll(io.LimitReader(rc, MaxUncompressedBytes+1))
	if err != nil {
		return nil, errors.Newf("Cannot read %s from the blueprint archive: %v", f.Name, err)
	}
	if len(data) > MaxUncompressedBytes {
		return nil, errors.New("The blueprint archive holds more than 5 MB uncompressed")
	}
	return data, nil
}
