package asl

import (
	"encoding/json"
	"errors"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sfnd/sfnd/actors/asl/expr"
	"github.com/sfnd/sfnd/events"
)

// Distributed Map (ProcessorConfig.Mode DISTRIBUTED) as the decider sees it. Two
// things leave the decider, each as an effect whose outcome comes back as a task
// result trigger (so every byte the execution learns is in its recorded triggers):
//
//  1. With an ItemReader, the Map state's entry schedules ReadItems (the reader's
//     resolved Resource, Parameters and ReaderConfig, recorded on MapStateEntered);
//     the items arrive as a TaskSucceeded trigger (a JSON array) or fail the state
//     (States.ItemReaderFailed ...).
//  2. With the items at hand, MapStateStarted and MapRunStarted are recorded and the
//     run is handed to the engine as StartMapRun: every child execution's input
//     (ItemSelector applied to each item, then ItemBatcher's batches), the processor
//     definition, MaxConcurrency, the tolerated failures and the ResultWriter. The
//     engine runs the children as executions of their own and reports the Map Run's
//     end as a TaskSucceeded (the Map's result) or TaskFailed trigger for the
//     MapRunStarted event's id.
//
// Both are pending tasks of the execution (PendingTasks), so recovery re-issues them
// from the events (EffectOf), and the engine makes both idempotent.

// Ext.Data keys of the distributed map.
const (
	kReader = "reader" // ReadItems spec (JSON) on the event that scheduled it
	// kReaderFrame is the frame of the Map state that reads, when the event the read
	// is recorded on belongs to another frame (a retry or a redrive records no entry
	// event of its own: the read goes on the decision's last event).
	kReaderFrame = "readerFrame"
	kMapRun      = "maprun" // StartMapRun spec (JSON) on MapRunStarted
)

// Task types of the distributed map's pending work.
const (
	taskItemReader = "sfnd:itemReader"
	taskMapRun     = "sfnd:mapRun"
)

// ReadItems asks the engine to read a Distributed Map's items (ItemReader) and report
// them (a JSON array) or the failure as a task result for ScheduledEventID.
type ReadItems struct {
	ScheduledEventID int64
	Reader           ReaderSpec
}

// ReaderSpec is an ItemReader with its Parameters (or Arguments) evaluated.
type ReaderSpec struct {
	Resource     string          `json:"Resource"`
	Parameters   json.RawMessage `json:"Parameters,omitempty"`
	ReaderConfig ReaderConfig    `json:"ReaderConfig"`
}

// ReaderConfig is ItemReader.ReaderConfig with MaxItemsPath resolved.
type ReaderConfig struct {
	InputType         string   `json:"InputType,omitempty"`
	CSVHeaderLocation string   `json:"CSVHeaderLocation,omitempty"`
	CSVHeaders        []string `json:"CSVHeaders,omitempty"`
	CSVDelimiter      string   `json:"CSVDelimiter,omitempty"`
	MaxItems          int      `json:"MaxItems,omitempty"` // 0: all
}

// StartMapRun asks the engine to run a Map Run and report its end as a task result for
// ScheduledEventID (the MapRunStarted event).
type StartMapRun struct {
	ScheduledEventID int64
	Run              MapRunSpec
}

// MapRunSpec is everything a Map Run needs, decided by the parent execution.
type MapRunSpec struct {
	MapRunArn     string   `json:"mapRunArn"`
	StateName     string   `json:"stateName"`
	Label         string   `json:"label,omitempty"`
	ExecutionType string   `json:"executionType"` // STANDARD or EXPRESS
	RoleArn       string   `json:"roleArn,omitempty"`
	Definition    string   `json:"definition"` // the ItemProcessor as a state machine
	Inputs        []string `json:"inputs"`     // one per child execution
	Items         int      `json:"items"`      // items read (before batching)
	// MaxConcurrency 0 means as many as possible (AWS: up to 10,000).
	MaxConcurrency int          `json:"maxConcurrency"`
	ToleratedCount *int         `json:"toleratedFailureCount,omitempty"`
	ToleratedPct   *float64     `json:"toleratedFailurePercentage,omitempty"`
	ResultWriter   *WriterSpec  `json:"resultWriter,omitempty"`
	Batched        bool         `json:"batched,omitempty"`
	ItemReader     *ReaderSpec  `json:"itemReader,omitempty"`
	Extra          *MapRunExtra `json:"extra,omitempty"`
}

// MapRunExtra is reserved for later additions to a recorded spec.
type MapRunExtra struct{}

// WriterSpec is a ResultWriter with its Parameters (or Arguments) evaluated.
type WriterSpec struct {
	Resource       string `json:"Resource,omitempty"`
	Bucket         string `json:"Bucket,omitempty"`
	Prefix         string `json:"Prefix,omitempty"`
	OutputType     string `json:"OutputType,omitempty"`     // JSON (default) or JSONL
	Transformation string `json:"Transformation,omitempty"` // NONE (default), COMPACT or FLATTEN
}

func (ReadItems) isEffect()   {}
func (StartMapRun) isEffect() {}

// EffectOf rebuilds the effect a stored event scheduled for the distributed map
// (ReadItems or StartMapRun), for recovery.
func EffectOf(ev *events.HistoryEvent) (Effect, bool) {
	d := extData(ev)
	if s, ok := dataString(d, kReader); ok {
		var r ReaderSpec
		if json.Unmarshal([]byte(s), &r) == nil {
			return ReadItems{ScheduledEventID: ev.ID, Reader: r}, true
		}
	}
	if s, ok := dataString(d, kMapRun); ok {
		var r MapRunSpec
		if json.Unmarshal([]byte(s), &r) == nil {
			return StartMapRun{ScheduledEventID: ev.ID, Run: r}, true
		}
	}
	if s, ok := dataString(d, kMapRunRedo); ok && ev.MapRunRedrivenEventDetails != nil {
		var r MapRunSpec
		if json.Unmarshal([]byte(s), &r) == nil {
			return RedriveMapRun{ScheduledEventID: ev.ID, Run: r, RedriveCount: ev.MapRunRedrivenEventDetails.RedriveCount}, true
		}
	}
	return nil, false
}

// frameOf is the frame key an event belongs to ("" for the top level).
func frameOf(ev *events.HistoryEvent) string {
	s, _ := dataString(extData(ev), kFrame)
	return s
}

// applyDistMap opens the distributed map's pending work recorded on ev.
func (x *Execution) applyDistMap(ev *events.HistoryEvent, d map[string]any) {
	typ := ""
	if _, ok := d[kReader]; ok {
		typ = taskItemReader
	} else if _, ok := d[kMapRun]; ok {
		typ = taskMapRun
	} else if _, ok := d[kMapRunRedo]; ok {
		typ = taskMapRun
	}
	if typ == "" {
		return
	}
	key, _ := dataString(extData(ev), kFrame)
	if rf, ok := dataString(d, kReaderFrame); ok && typ == taskItemReader {
		key = rf
	}
	f := x.frames[key]
	if f == nil {
		return
	}
	if ev.Type == events.MapRunRedriven {
		x.applyMapRunRedriven(f, ev) // redrive.go
	}
	f.Task = &taskInfo{Scheduled: ev.ID, Type: typ}
	x.tasks[ev.ID] = f.Key
	if typ == taskItemReader {
		f.Phase = phEntered // waits for the items (a retry or a redrive left it phRetry)
	}
}

// closeDistTask closes the distributed map's pending work of f, if any.
func (x *Execution) closeDistTask(f *frame) {
	if f == nil || f.Task == nil || (f.Task.Type != taskItemReader && f.Task.Type != taskMapRun) {
		return
	}
	delete(x.tasks, f.Task.Scheduled)
	f.Task = nil
}

func isDistTask(t *taskInfo) bool {
	return t != nil && (t.Type == taskItemReader || t.Type == taskMapRun)
}

// distResult handles the outcome of a distributed map's reader or Map Run.
func (d *decider) distResult(f *frame) {
	st := d.state(f)
	ok := d.t.Kind == TriggerTaskSucceeded
	switch f.Task.Type {
	case taskItemReader:
		if !ok {
			d.fail(f, st, stateError{d.t.Error, d.t.Cause}) // MapStateFailed closes the read
			return
		}
		out := d.t.Output
		d.readOut = &out
		d.work(f)
		d.readOut = nil
	case taskMapRun:
		if !ok {
			d.emit(f, events.HistoryEvent{Type: events.MapRunFailed,
				MapRunFailedEventDetails: &events.ErrorDetails{Error: d.t.Error, Cause: d.t.Cause}}, nil)
			d.fail(f, st, stateError{d.t.Error, d.t.Cause})
			return
		}
		ev := d.emit(f, events.HistoryEvent{Type: events.MapRunSucceeded}, nil)
		d.emitPrev(f, events.HistoryEvent{Type: events.MapStateSucceeded}, nil, ev.ID)
		d.finishResult(f, st, rawPayload(d.t.Output))
	}
}

// readWatchdog is how long a retried Map state waits for its items before it reads
// them again.
const readWatchdog = time.Minute

// backoffTimerEvent is the event id of the back-off timer a TimerFired trigger fires.
func backoffTimerEvent(t Trigger) (int64, bool) {
	if t.Kind != TriggerTimerFired || !strings.HasPrefix(t.TimerID, "t") {
		return 0, false
	}
	id, err := strconv.ParseInt(t.TimerID[1:], 10, 64)
	return id, err == nil
}

// backoffReadFrame is the frame of a Distributed Map with an ItemReader whose retry
// waits for the items read after its back-off (keyed on the back-off timer's event).
func (d *decider) backoffReadFrame() *frame {
	id := timerID(d.t.ScheduledEventID)
	tm := d.x.timers[id]
	if tm == nil || tm.Kind != timerBackoff {
		return nil
	}
	f := d.x.frames[tm.Frame]
	if f == nil || f.Phase != phBackoff || f.Timer != id {
		return nil
	}
	if st := d.state(f); st == nil || st.Type != "Map" || !st.ItemReader.Set {
		return nil
	}
	return f
}

// backoffRead goes on with a retried Map state once its items are read (or not).
func (d *decider) backoffRead(f *frame) {
	st := d.state(f)
	if d.t.Kind != TriggerTaskSucceeded {
		d.fail(f, st, stateError{d.t.Error, d.t.Cause})
		return
	}
	out := d.t.Output
	d.readOut = &out
	d.work(f)
	d.readOut = nil
}

// readItems returns the items of a Map state with an ItemReader once they have been
// read; before that it schedules the read and returns false.
func (d *decider) readItems(f *frame, st *State, in *payload) (any, bool) {
	if d.readOut != nil {
		v, err := parseJSON(*d.readOut)
		if err != nil {
			d.runtimeFail(f, st, "The item reader's answer is not JSON: "+err.Error())
			return nil, false
		}
		return v, true
	}
	spec, err := d.readerSpec(f, st, in)
	if err != nil {
		d.failErr(f, st, err)
		return nil, false
	}
	if len(d.evs) == 0 {
		// A retry after its back-off: this decision (the timer firing) records no
		// event, so the read is keyed on the event that scheduled the back-off timer,
		// and the frame waits on that timer until the items come (backoffRead). The
		// timer is armed again as the read's watchdog: should the items not come (the
		// node died meanwhile), it fires again and the items are read again.
		if id, ok := backoffTimerEvent(d.t); ok {
			d.effects = append(d.effects, ReadItems{ScheduledEventID: id, Reader: spec},
				ScheduleTimer{ID: d.t.TimerID, Due: d.t.Time.Add(readWatchdog).UTC()})
			return nil, false
		}
		d.runtimeFail(f, st, "The Map state's items cannot be read here")
		return nil, false
	}
	b, _ := json.Marshal(spec)
	data := map[string]any{kReader: string(b)}
	if last := &d.evs[len(d.evs)-1]; frameOf(last) != f.Key {
		data[kReaderFrame] = f.Key
	}
	d.amend(data, nil)
	d.effects = append(d.effects, ReadItems{ScheduledEventID: d.evs[len(d.evs)-1].ID, Reader: spec})
	return nil, false
}

func (d *decider) readerSpec(f *frame, st *State, in *payload) (ReaderSpec, error) {
	var raw struct {
		Resource     string          `json:"Resource"`
		Parameters   json.RawMessage `json:"Parameters"`
		Arguments    json.RawMessage `json:"Arguments"`
		ReaderConfig struct {
			InputType         string          `json:"InputType"`
			CSVHeaderLocation string          `json:"CSVHeaderLocation"`
			CSVHeaders        []string        `json:"CSVHeaders"`
			CSVDelimiter      string          `json:"CSVDelimiter"`
			MaxItems          json.RawMessage `json:"MaxItems"`
			MaxItemsPath      string          `json:"MaxItemsPath"`
		} `json:"ReaderConfig"`
	}
	if err := json.Unmarshal(st.ItemReader.Raw, &raw); err != nil {
		return ReaderSpec{}, err
	}
	spec := ReaderSpec{Resource: raw.Resource}
	rc := raw.ReaderConfig
	spec.ReaderConfig = ReaderConfig{InputType: rc.InputType, CSVHeaderLocation: rc.CSVHeaderLocation,
		CSVHeaders: rc.CSVHeaders, CSVDelimiter: rc.CSVDelimiter}
	params := raw.Parameters
	if len(params) == 0 {
		params = raw.Arguments
	}
	if len(params) > 0 {
		v, err := d.evalTemplateRaw(f, st, params, in)
		if err != nil {
			return ReaderSpec{}, err
		}
		spec.Parameters = json.RawMessage(marshalJSON(v))
	}
	if len(rc.MaxItems) > 0 {
		n, err := strconv.Atoi(strings.TrimSpace(string(rc.MaxItems)))
		if err == nil {
			spec.ReaderConfig.MaxItems = n
		}
	}
	if rc.MaxItemsPath != "" {
		n, ok, bad, err := d.mapNumber(f, nil, rc.MaxItemsPath, "MaxItemsPath", in, true)
		if err != nil {
			return ReaderSpec{}, err
		}
		if bad != "" || !ok {
			return ReaderSpec{}, errors.New(bad)
		}
		spec.ReaderConfig.MaxItems = int(n)
	}
	if spec.ReaderConfig.MaxItems < 0 || spec.ReaderConfig.MaxItems > 100000000 {
		return ReaderSpec{}, errors.New("MaxItems must be between 0 and 100000000")
	}
	return spec, nil
}

// evalTemplateRaw evaluates a payload template (JSONPath Parameters or JSONata
// Arguments) given as JSON text against the state input.
func (d *decider) evalTemplateRaw(f *frame, st *State, raw json.RawMessage, in *payload) (any, error) {
	t := Template{Set: true, Raw: raw}
	if err := t.parse(); err != nil {
		return nil, err
	}
	if st.isJSONata() {
		return d.evalJSONata(f, t, "Arguments", jsonataIn{input: in.Value()})
	}
	return expr.EvalTemplate(t.Value, d.env(f, in.Value()))
}

// startMapRun records MapRunStarted and hands the run to the engine. It runs after
// MapStateStarted (f.Map holds the items).
func (d *decider) startMapRun(f *frame, st *State, in *payload) {
	m := f.Map
	label := st.Label
	if label == "" {
		label = d.uuid()
	}
	smArn := d.x.info.StateMachineArn
	base := strings.Replace(smArn, ":stateMachine:", ":mapRun:", 1)
	arn := base + "/" + label + ":" + d.uuid()
	spec := MapRunSpec{MapRunArn: arn, StateName: f.State, Label: st.Label, ExecutionType: st.ExecutionType,
		Definition: st.processorDefinition(), MaxConcurrency: m.MaxConc, Items: len(m.Items),
		RoleArn: d.x.info.RoleArn}
	if spec.ExecutionType == "" {
		spec.ExecutionType = "STANDARD"
	}
	if m.TolCount >= 0 {
		n := m.TolCount
		spec.ToleratedCount = &n
	}
	if m.TolPctSet {
		p := m.TolPct
		spec.ToleratedPct = &p
	}
	inputs := make([]string, len(m.Items))
	for i := range m.Items {
		s, err := d.itemInput(f, st, i)
		if err != nil {
			d.failErr(f, st, err)
			return
		}
		inputs[i] = s
	}
	if st.ItemBatcher.Set {
		batched, err := d.batch(f, st, in, inputs)
		if err != nil {
			d.failErr(f, st, err)
			return
		}
		inputs, spec.Batched = batched, true
	}
	spec.Inputs = inputs
	if st.ResultWriter.Set {
		w, err := d.writerSpec(f, st, in)
		if err != nil {
			d.failErr(f, st, err)
			return
		}
		spec.ResultWriter = w
	}
	b, _ := json.Marshal(spec)
	ev := d.emit(f, events.HistoryEvent{Type: events.MapRunStarted,
		MapRunStartedEventDetails: &events.MapRunStartedEventDetails{MapRunArn: arn}}, map[string]any{kMapRun: string(b)})
	if ev.ID == 0 {
		return // the history is full
	}
	d.effects = append(d.effects, StartMapRun{ScheduledEventID: ev.ID, Run: spec})
}

// batch groups child inputs as ItemBatcher says: at most MaxItemsPerBatch items and
// MaxInputBytesPerBatch bytes per batch, each batch {"BatchInput": ..., "Items": [...]}.
func (d *decider) batch(f *frame, st *State, in *payload, inputs []string) ([]string, error) {
	var raw struct {
		MaxItemsPerBatch          *json.Number    `json:"MaxItemsPerBatch"`
		MaxItemsPerBatchPath      string          `json:"MaxItemsPerBatchPath"`
		MaxInputBytesPerBatch     *json.Number    `json:"MaxInputBytesPerBatch"`
		MaxInputBytesPerBatchPath string          `json:"MaxInputBytesPerBatchPath"`
		BatchInput                json.RawMessage `json:"BatchInput"`
	}
	if err := json.Unmarshal(st.ItemBatcher.Raw, &raw); err != nil {
		return nil, err
	}
	maxItems, okI, bad, err := d.mapNumber(f, raw.MaxItemsPerBatch, raw.MaxItemsPerBatchPath, "MaxItemsPerBatchPath", in, true)
	if err != nil {
		return nil, err
	}
	if bad != "" {
		return nil, errors.New(bad)
	}
	maxBytes, okB, bad, err := d.mapNumber(f, raw.MaxInputBytesPerBatch, raw.MaxInputBytesPerBatchPath, "MaxInputBytesPerBatchPath", in, true)
	if err != nil {
		return nil, err
	}
	if bad != "" {
		return nil, errors.New(bad)
	}
	if !okI || maxItems <= 0 {
		maxItems = math.MaxInt32
	}
	if !okB || maxBytes <= 0 || maxBytes > maxPayload {
		maxBytes = maxPayload
	}
	prefix := "{"
	if len(raw.BatchInput) > 0 {
		v, err := d.evalTemplateRaw(f, st, raw.BatchInput, in)
		if err != nil {
			return nil, err
		}
		prefix = `{"BatchInput":` + marshalJSON(v) + `,`
	}
	prefix += `"Items":[`
	var out []string
	var cur strings.Builder
	n := 0
	flush := func() {
		if n > 0 {
			cur.WriteString("]}")
			out = append(out, cur.String())
		}
		cur.Reset()
		n = 0
	}
	for _, s := range inputs {
		// Size of the batch with this item added: current + separator + item + "]}".
		size := cur.Len() + len(s) + 3
		if n == 0 {
			size = len(prefix) + len(s) + 2
		}
		if n > 0 && (n >= int(maxItems) || size > int(maxBytes)) {
			flush()
		}
		if n == 0 {
			cur.WriteString(prefix)
		} else {
			cur.WriteByte(',')
		}
		cur.WriteString(s)
		n++
	}
	flush()
	return out, nil
}

func (d *decider) writerSpec(f *frame, st *State, in *payload) (*WriterSpec, error) {
	var raw struct {
		Resource     string          `json:"Resource"`
		Parameters   json.RawMessage `json:"Parameters"`
		Arguments    json.RawMessage `json:"Arguments"`
		WriterConfig struct {
			OutputType     string `json:"OutputType"`
			Transformation string `json:"Transformation"`
		} `json:"WriterConfig"`
	}
	if err := json.Unmarshal(st.ResultWriter.Raw, &raw); err != nil {
		return nil, err
	}
	w := &WriterSpec{Resource: raw.Resource, OutputType: raw.WriterConfig.OutputType, Transformation: raw.WriterConfig.Transformation}
	params := raw.Parameters
	if len(params) == 0 {
		params = raw.Arguments
	}
	if len(params) > 0 {
		v, err := d.evalTemplateRaw(f, st, params, in)
		if err != nil {
			return nil, err
		}
		if o, ok := v.(*expr.Object); ok {
			if b, ok := o.Get("Bucket"); ok {
				w.Bucket, _ = b.(string)
			}
			if p, ok := o.Get("Prefix"); ok {
				w.Prefix, _ = p.(string)
			}
		}
	}
	return w, nil
}

// processorDefinition is the ItemProcessor as a state machine definition of its own
// (ProcessorConfig dropped, the query language it inherits made explicit).
func (st *State) processorDefinition() string {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(st.ProcessorRaw, &m); err != nil {
		return string(st.ProcessorRaw)
	}
	delete(m, "ProcessorConfig")
	if _, ok := m["QueryLanguage"]; !ok && st.QueryLanguage == JSONata {
		m["QueryLanguage"] = json.RawMessage(`"JSONata"`)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// Definition order as AWS writes it: Comment, StartAt, States, then the rest.
	rank := map[string]int{"Comment": 0, "QueryLanguage": 1, "StartAt": 2, "States": 3}
	sort.SliceStable(keys, func(i, j int) bool {
		ri, oki := rank[keys[i]]
		rj, okj := rank[keys[j]]
		switch {
		case oki && okj:
			return ri < rj
		case oki != okj:
			return oki
		}
		return keys[i] < keys[j]
	})
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		b.Write(m[k])
	}
	b.WriteByte('}')
	return b.String()
}

// The error a Map Run fails with when its children fail beyond the tolerated failures
// (AWS: the default tolerance is zero failures).
const (
	ErrExceedToleratedFailureThreshold   = "States.ExceedToleratedFailureThreshold"
	CauseExceedToleratedFailureThreshold = "The specified tolerated failure threshold was exceeded"
)

// Tolerated reports whether failed failures among total children stay within the
// tolerated failure count and percentage (either exceeded fails the run; neither set
// tolerates none).
func Tolerated(failed, total int, count *int, pct *float64) bool {
	if failed == 0 {
		return true
	}
	if count == nil && pct == nil {
		return false
	}
	if count != nil && failed > *count {
		return false
	}
	if pct != nil && total > 0 && float64(failed)*100/float64(total) > *pct {
		return false
	}
	return true
}

// ChildResult is how one child execution of a Map Run ended.
type ChildResult struct {
	Status string // SUCCEEDED, FAILED, TIMED_OUT, ABORTED
	Output string // JSON text, when SUCCEEDED
	Error  string
	Cause  string
}

// MapRunOutput is a Map Run's result without a ResultWriter: the children's outputs
// in item order (a failed child's entry is its {"Error", "Cause"}).
func MapRunOutput(results []ChildResult) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, r := range results {
		if i > 0 {
			b.WriteByte(',')
		}
		if r.Status == string(StatusSucceeded) && r.Output != "" {
			b.WriteString(r.Output)
			continue
		}
		o := expr.NewObject(2)
		o.Set("Error", r.Error)
		o.Set("Cause", r.Cause)
		b.WriteString(marshalJSON(o))
	}
	b.WriteByte(']')
	return b.String()
}
