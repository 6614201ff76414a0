package actors

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/cockroachdb/errors"

	"github.com/sfnd/sfnd/actors/asl"
	"github.com/sfnd/sfnd/actors/asl/expr"
	"github.com/sfnd/sfnd/actors/objects"
)

// ReadItems reads a Distributed Map's items as its ItemReader says and returns them as
// a JSON array:
//
//   - arn:aws:states:::s3:getObject with ReaderConfig.InputType JSON (the object is a
//     JSON array), JSONL (one JSON value per line), CSV (one object per row, keys from
//     the first row or from CSVHeaders; CSVDelimiter COMMA, PIPE, SEMICOLON, SPACE or
//     TAB) or MANIFEST (an S3 Inventory manifest.json: every row of its CSV files, keys
//     from its fileSchema);
//   - arn:aws:states:::s3:listObjectsV2: one item per object under Bucket/Prefix,
//     {"Etag", "Key", "LastModified" (epoch seconds), "Size", "StorageClass"}.
//
// ReaderConfig.MaxItems (already resolved) keeps the first items. A failure is
// returned as an error whose text is the States.ItemReaderFailed cause.
func ReadItems(ctx context.Context, store *objects.Store, spec asl.ReaderSpec) (string, error) {
	if store == nil {
		return "", fmt.Errorf("no object store is configured (--s3-local-root or --s3-endpoint)")
	}
	var p struct {
		Bucket string `json:"Bucket"`
		Key    string `json:"Key"`
		Prefix string `json:"Prefix"`
	}
	if len(spec.Parameters) > 0 {
		if err := json.Unmarshal(spec.Parameters, &p); err != nil {
			return "", fmt.Errorf("the ItemReader's Parameters are not valid: %v", err)
		}
	}
	max := spec.ReaderConfig.MaxItems
	var items []string
	add := func(s string) bool {
		items = append(items, s)
		return max == 0 || len(items) < max
	}
	switch action(spec.Resource) {
	case "s3:listObjectsV2":
		list, err := store.ListObjects(ctx, p.Bucket, objects.ListOptions{Prefix: p.Prefix, Max: max})
		if err != nil {
			return "", s3Cause(err)
		}
		for _, o := range list {
			v := expr.NewObject(5)
			v.Set("Etag", o.ETag)
			v.Set("Key", o.Key)
			v.Set("LastModified", json.Number(fmt.Sprint(o.LastModified.Unix())))
			v.Set("Size", json.Number(fmt.Sprint(o.Size)))
			v.Set("StorageClass", o.StorageClass)
			add(expr.Marshal(v))
		}
	case "s3:getObject":
		obj, err := store.GetObject(ctx, p.Bucket, p.Key)
		if err != nil {
			return "", s3Cause(err)
		}
		if err := parseItems(ctx, store, obj.Body, p.Bucket, spec.ReaderConfig, add); err != nil {
			return "", err
		}
	default:
		return "", fmt.Errorf("the ItemReader resource %q is not supported (s3:getObject, s3:listObjectsV2)", spec.Resource)
	}
	return "[" + strings.Join(items, ",") + "]", nil
}

func action(resource string) string {
	return strings.TrimPrefix(resource, "arn:aws:states:::")
}

// s3Cause renders an object store error the way the AWS Java SDK does in causes.
func s3Cause(err error) error {
	var e *objects.Error
	if errors.As(err, &e) {
		return fmt.Errorf("%s (Service: Amazon S3; Status Code: %d; Error Code: %s; Request ID: %s; Proxy: null)",
			e.Message, e.StatusCode, e.Code, e.RequestID)
	}
	return err
}

func parseItems(ctx context.Context, store *objects.Store, body []byte, bucket string, rc asl.ReaderConfig, add func(string) bool) error {
	switch strings.ToUpper(rc.InputType) {
	case "", "JSON":
		v, err := expr.ParseJSON(string(body))
		if err != nil {
			return fmt.Errorf("the object is not valid JSON: %v", err)
		}
		arr, ok := v.([]any)
		if !ok {
			return fmt.Errorf("the object must contain a JSON array of items")
		}
		for _, it := range arr {
			if !add(expr.Marshal(it)) {
				break
			}
		}
	case "JSONL":
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(make([]byte, 64*1024), 8<<20)
		line := 0
		for sc.Scan() {
			line++
			s := strings.TrimSpace(sc.Text())
			if s == "" {
				continue
			}
			v, err := expr.ParseJSON(s)
			if err != nil {
				return fmt.Errorf("line %d is not valid JSON: %v", line, err)
			}
			if !add(expr.Marshal(v)) {
				break
			}
		}
		if err := sc.Err(); err != nil {
			return err
		}
	case "CSV":
		return parseCSV(bytes.NewReader(body), rc, nil, add)
	case "MANIFEST":
		return parseManifest(ctx, store, body, add)
	default:
		return fmt.Errorf("ReaderConfig.InputType %q is not JSON, JSONL, CSV or MANIFEST", rc.InputType)
	}
	return nil
}

func csvDelimiter(name string) (rune, error) {
	switch strings.ToUpper(name) {
	case "", "COMMA":
		return ',', nil
	case "PIPE":
		return '|', nil
	case "SEMICOLON":
		return ';', nil
	case "SPACE":
		return ' ', nil
	case "TAB":
		return '\t', nil
	}
	return 0, fmt.Errorf("CSVDelimiter %q is not COMMA, PIPE, SEMICOLON, SPACE or TAB", name)
}

// parseCSV turns rows into objects: keys from the header (first row, given headers, or
// header when not nil), values as strings.
func parseCSV(r io.Reader, rc asl.ReaderConfig, header []string, add func(string) bool) error {
	delim, err := csvDelimiter(rc.CSVDelimiter)
	if err != nil {
		return err
	}
	cr := csv.NewReader(r)
	cr.Comma = delim
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	if header == nil {
		if strings.ToUpper(rc.CSVHeaderLocation) == "GIVEN" {
			header = rc.CSVHeaders
		} else {
			h, err := cr.Read()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("the CSV header cannot be read: %v", err)
			}
			header = h
		}
	}
	for row := 1; ; row++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("CSV row %d: %v", row, err)
		}
		if len(rec) > len(header) {
			return fmt.Errorf("CSV row %d has %d fields, the header %d", row, len(rec), len(header))
		}
		o := expr.NewObject(len(header))
		for i, h := range header {
			v := ""
			if i < len(rec) {
				v = rec[i]
			}
			o.Set(h, v)
		}
		if !add(expr.Marshal(o)) {
			return nil
		}
	}
}

// parseManifest reads an S3 Inventory manifest and the CSV files it lists.
func parseManifest(ctx context.Context, store *objects.Store, body []byte, add func(string) bool) error {
	var m struct {
		DestinationBucket string `json:"destinationBucket"`
		FileFormat        string `json:"fileFormat"`
		FileSchema        string `json:"fileSchema"`
		Files             []struct {
			Key string `json:"key"`
		} `json:"files"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return fmt.Errorf("the manifest is not valid JSON: %v", err)
	}
	if m.FileFormat != "" && !strings.EqualFold(m.FileFormat, "CSV") {
		return fmt.Errorf("the manifest's fileFormat %q is not CSV", m.FileFormat)
	}
	var header []string
	for _, h := range strings.Split(m.FileSchema, ",") {
		header = append(header, strings.TrimSpace(h))
	}
	bucket := strings.TrimPrefix(m.DestinationBucket, "arn:aws:s3:::")
	stop := false
	for _, f := range m.Files {
		obj, err := store.GetObject(ctx, bucket, f.Key)
		if err != nil {
			return s3Cause(err)
		}
		var r io.Reader = bytes.NewReader(obj.Body)
		if strings.HasSuffix(f.Key, ".gz") {
			gz, err := gzip.NewReader(r)
			if err != nil {
				return fmt.Errorf("%s: %v", f.Key, err)
			}
			r = gz
		}
		err = parseCSV(r, asl.ReaderConfig{}, header, func(s string) bool {
			if !add(s) {
				stop = true
				return false
			}
			return true
		})
		if err != nil {
			return err
		}
		if stop {
			return nil
		}
	}
	return nil
}
