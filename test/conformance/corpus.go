package conformance

import (
	"bufio"
	_ "embed"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/cockroachdb/errors"
)

// Case is one AWS-recorded conformance case (one line of aws-recorded.jsonl).
type Case struct {
	// ID is the LocalStack test id, e.g. "tests/aws/.../test_x.py::TestX::test_y[param]".
	ID string
	// Kind is execution, invalid_definition, test_state, validate_definition,
	// state_machine_api or api.
	Kind string
	// Features lists the ASL/API features the case exercises.
	Features []string
	// AWSValidated is true when the corpus records an AWS validation date.
	AWSValidated bool

	raw *pyObject
}

func (c *Case) field(k string) any {
	v, _ := c.raw.Get(k)
	return v
}

func (c *Case) objField(k string) *pyObject {
	o, _ := c.field(k).(*pyObject)
	if o == nil {
		return newObject()
	}
	return o
}

func (c *Case) listField(k string) []any {
	l, _ := c.field(k).(*pyList)
	if l == nil {
		return nil
	}
	return l.Items
}

func (c *Case) skipPaths() []string {
	var out []string
	for _, p := range c.listField("skip_snapshot_verify") {
		if s, ok := p.(string); ok {
			out = append(out, s)
		}
	}
	// A case recorded before AWS began to return a member cannot show it.
	if validated, _ := c.field("last_validated_date").(string); validated != "" {
		if at, err := time.Parse(time.RFC3339, validated); err == nil {
			for _, m := range membersAddedLater {
				if at.Before(m.since) {
					out = append(out, m.path)
				}
			}
		}
	}
	return out
}

// membersAddedLater are response members AWS added to the Step Functions API after
// some of the corpus was recorded, with the date of the API release that added them.
var membersAddedLater = []struct {
	path  string
	since time.Time
}{
	// Customer managed KMS keys (aws-sdk-go-v2/service/sfn v1.30.0, 2024-07-25):
	// DescribeStateMachine and friends answer encryptionConfiguration since.
	{"$..encryptionConfiguration", time.Date(2024, 7, 25, 0, 0, 0, 0, time.UTC)},
}

// recordedSnapshot is the case's expected snapshot as AWS records it today: a case
// validated before AWS changed what it records is translated by historyChanges. Each
// change is a rule over event types, applied to every such case (never to a case by
// name), with the date of the first corpus recording that shows the new behaviour.
func (c *Case) recordedSnapshot() *pyObject {
	exp := c.objField("expected")
	validated, _ := c.field("last_validated_date").(string)
	at, err := time.Parse(time.RFC3339, validated)
	if err != nil {
		return exp
	}
	var out *pyObject
	for _, ch := range historyChanges {
		if !at.Before(ch.since) {
			continue
		}
		if out == nil {
			out = deepCopy(exp).(*pyObject)
		}
		eachHistory(out, ch.apply)
	}
	if out == nil {
		return exp
	}
	return out
}

// historyChanges are changes AWS made to the histories it records after some of the
// corpus was recorded.
var historyChanges = []struct {
	since time.Time
	apply func(events []*pyObject)
}{
	// A Distributed Map's MapStateExited: recorded before, it pointed at MapRunSucceeded
	// (11 histories, February to June 2024); recorded since, at MapRunStarted, the
	// event MapRunSucceeded points at (4 histories, November 2024 to January 2025;
	// three of them are skipped by LocalStack for this very difference). The change
	// happened between 2024-06-19 and 2024-11-15; the date is the first new recording.
	{time.Date(2024, 11, 15, 0, 0, 0, 0, time.UTC), func(evs []*pyObject) {
		byID := map[string]*pyObject{}
		for _, e := range evs {
			byID[pyStr(mustGet(e, "id"))] = e
		}
		for _, e := range evs {
			if mustGet(e, "type") != "MapStateExited" {
				continue
			}
			prev := byID[pyStr(mustGet(e, "previousEventId"))]
			if prev != nil && mustGet(prev, "type") == "MapRunSucceeded" {
				e.Set("previousEventId", mustGet(prev, "previousEventId"))
			}
		}
	}},
}

// eachHistory calls fn with the events of every history ({"events": [...]} whose
// events carry previousEventId) found in v.
func eachHistory(v any, fn func([]*pyObject)) {
	switch t := v.(type) {
	case *pyObject:
		if l, ok := mustGet(t, "events").(*pyList); ok {
			var evs []*pyObject
			for _, it := range l.Items {
				if o, ok := it.(*pyObject); ok && o.Has("previousEventId") && o.Has("type") {
					evs = append(evs, o)
				}
			}
			if len(evs) > 0 {
				fn(evs)
			}
		}
		for _, k := range t.keys {
			eachHistory(t.vals[k], fn)
		}
	case *pyList:
		for _, it := range t.Items {
			eachHistory(it, fn)
		}
	}
}

// ParseCase decodes one corpus line.
func ParseCase(line []byte) (Case, error) {
	v, err := parseJSON(line)
	if err != nil {
		return Case{}, errors.Wrap(err, "decoding case")
	}
	o, ok := v.(*pyObject)
	if !ok {
		return Case{}, errors.New("case is not a JSON object")
	}
	c := Case{raw: o}
	c.ID, _ = c.field("id").(string)
	c.Kind, _ = c.field("kind").(string)
	for _, f := range c.listField("features") {
		if s, ok := f.(string); ok {
			c.Features = append(c.Features, s)
		}
	}
	c.AWSValidated = pyTruthy(c.field("last_validated_date"))
	if c.ID == "" {
		return Case{}, errors.New("case has no id")
	}
	return c, nil
}

// LoadCorpus reads a corpus file (one JSON case per line).
func LoadCorpus(path string) ([]Case, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.Wrap(err, "opening corpus")
	}
	defer f.Close()
	var cases []Case
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Bytes()
		if strings.TrimSpace(string(line)) == "" {
			continue
		}
		c, err := ParseCase(line)
		if err != nil {
			return nil, errors.Wrapf(err, "%s:%d", path, n)
		}
		cases = append(cases, c)
	}
	if err := sc.Err(); err != nil {
		return nil, errors.Wrap(err, "reading corpus")
	}
	return cases, nil
}

// ---- corpus fix-ups (sfn_conformance.py ARG_PATCHES, ROLE_SLOTS, OPAQUE_TRANSFORMERS) ----

//go:embed fixups.json
var fixupsJSON []byte

type fixupTables struct {
	argPatches map[string]map[int]*pyObject // case id -> seq -> {arg: value}
	roleSlots  map[string]map[int]int
	opaque     map[string]string
}

var (
	fixupsOnce sync.Once
	fixups     fixupTables
	fixupsErr  error
)

func loadFixups() (*fixupTables, error) {
	fixupsOnce.Do(func() {
		v, err := parseJSON(fixupsJSON)
		if err != nil {
			fixupsErr = errors.Wrap(err, "fixups.json")
			return
		}
		root := v.(*pyObject)
		fixups = fixupTables{argPatches: map[string]map[int]*pyObject{}, roleSlots: map[string]map[int]int{}, opaque: map[string]string{}}
		obj := func(o *pyObject, k string) *pyObject {
			x, _ := o.Get(k)
			r, _ := x.(*pyObject)
			if r == nil {
				return newObject()
			}
			return r
		}
		ap := obj(root, "arg_patches")
		for _, id := range ap.Keys() {
			m := map[int]*pyObject{}
			d := obj(ap, id)
			for _, seq := range d.Keys() {
				m[atoi(seq)] = obj(d, seq)
			}
			fixups.argPatches[id] = m
		}
		rs := obj(root, "role_slots")
		for _, id := range rs.Keys() {
			m := map[int]int{}
			d := obj(rs, id)
			for _, seq := range d.Keys() {
				x, _ := d.Get(seq)
				n, _ := x.(pyInt)
				m[atoi(seq)] = atoi(string(n))
			}
			fixups.roleSlots[id] = m
		}
		ot := obj(root, "opaque_transformers")
		for _, k := range ot.Keys() {
			x, _ := ot.Get(k)
			fixups.opaque[k], _ = x.(string)
		}
	})
	return &fixups, fixupsErr
}

func atoi(s string) int {
	n := 0
	neg := strings.HasPrefix(s, "-")
	for _, r := range strings.TrimPrefix(s, "-") {
		if r < '0' || r > '9' {
			break
		}
		n = n*10 + int(r-'0')
	}
	if neg {
		return -n
	}
	return n
}
