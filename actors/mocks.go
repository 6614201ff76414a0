package actors

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/cockroachdb/errors"

	"github.com/sfnd/sfnd/actors/asl"
	"github.com/sfnd/sfnd/events"
)

// Mocked integrations: AWS Step Functions Local's mock configuration file
// (MockConfigFile.json, `sfnd serve --mock-config` or SFN_MOCK_CONFIG).
//
//	{"StateMachines": {"<state machine name>": {"TestCases": {"<test case>": {"<state>": "<response>"}}}},
//	 "MockedResponses": {"<response>": {"0": {"Return": {...}}, "1-2": {"Throw": {"Error": "...", "Cause": "..."}}}}}
//
// An execution runs a test case when it is started on "<stateMachineArn>#<TestCase>";
// the test case is recorded on its start command and its ExecutionStarted event. A
// Task state the test case names never reaches its resource: its invocations (every
// attempt, every re-entry, counted per state over the whole execution from 0) take the
// mocked responses in turn; Return is the task's result, Throw its error. Any resource
// can be mocked: service integrations, Lambda, and activities (which SFN Local cannot
// mock). A mocked .waitForTaskToken task records TaskSubmitted with the mocked result
// and succeeds with it at once. An invocation with no response defined fails the task
// with States.Runtime. States the test case does not name run normally.
//
// Mocked results travel as TaskResult commands with the same Nats-Msg-Id as real
// results, so a re-dispatch after a crash (recovery) repeats them harmlessly; the
// invocation counts are rebuilt from the history.

// MockConfig is a parsed mock configuration.
type MockConfig struct {
	machines map[string]map[string]*MockTestCase // state machine -> test case
}

// MockTestCase is one test case: mocked responses by state name.
type MockTestCase struct {
	StateMachine string
	Name         string
	states       map[string][]MockResponse // one entry per invocation
	responseName map[string]string
}

// MockResponse is the response of one invocation: Return (the result, JSON) or Throw.
type MockResponse struct {
	Return json.RawMessage
	Error  string
	Cause  string
}

// Throws reports whether the response is a Throw.
func (r MockResponse) Throws() bool { return r.Return == nil }

// LoadMockConfig reads a mock configuration file.
func LoadMockConfig(path string) (*MockConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, errors.Wrap(err, "read mock configuration")
	}
	c, err := ParseMockConfig(data)
	return c, errors.Wrapf(err, "mock configuration %s", path)
}

type rawMockConfig struct {
	StateMachines map[string]struct {
		TestCases map[string]map[string]string `json:"TestCases"`
	} `json:"StateMachines"`
	MockedResponses map[string]map[string]struct {
		Return json.RawMessage `json:"Return"`
		Throw  *struct {
			Error *string `json:"Error"`
			Cause *string `json:"Cause"`
		} `json:"Throw"`
	} `json:"MockedResponses"`
}

// ParseMockConfig parses a mock configuration. It refuses what SFN Local refuses: a
// test case naming an undefined response, a response step with both or neither of
// Return and Throw, a Throw without Error, invocation keys that are not "N" or "N-M",
// or that do not number the invocations consecutively from 0.
func ParseMockConfig(data []byte) (*MockConfig, error) {
	var raw rawMockConfig
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil {
		return nil, errors.Wrap(err, "decode mock configuration")
	}
	responses := map[string][]MockResponse{}
	for name, steps := range raw.MockedResponses {
		type step struct {
			from, to int
			r        MockResponse
		}
		var list []step
		for key, st := range steps {
			from, to, err := invocationRange(key)
			if err != nil {
				return nil, errors.Wrapf(err, "mocked response %q", name)
			}
			hasReturn := len(st.Return) > 0
			if hasReturn == (st.Throw != nil) {
				return nil, errors.Newf("mocked response %q, %q: exactly one of Return and Throw is required", name, key)
			}
			var r MockResponse
			if hasReturn {
				var buf bytes.Buffer
				if err := json.Compact(&buf, st.Return); err != nil {
					return nil, errors.Wrapf(err, "mocked response %q, %q", name, key)
				}
				r.Return = buf.Bytes()
			} else {
				if st.Throw.Error == nil {
					return nil, errors.Newf("mocked response %q, %q: Throw needs an Error", name, key)
				}
				r.Error = *st.Throw.Error
				if st.Throw.Cause != nil {
					r.Cause = *st.Throw.Cause
				}
			}
			list = append(list, step{from, to, r})
		}
		sort.Slice(list, func(i, j int) bool { return list[i].from < list[j].from })
		var seq []MockResponse
		for _, s := range list {
			if s.from != len(seq) {
				return nil, errors.Newf("mocked response %q: invocations must be numbered consecutively from 0 (expected %d, found %d)", name, len(seq), s.from)
			}
			for i := s.from; i <= s.to; i++ {
				seq = append(seq, s.r)
			}
		}
		responses[name] = seq
	}
	c := &MockConfig{machines: map[string]map[string]*MockTestCase{}}
	for smName, sm := range raw.StateMachines {
		cases := map[string]*MockTestCase{}
		for tcName, states := range sm.TestCases {
			tc := &MockTestCase{StateMachine: smName, Name: tcName, states: map[string][]MockResponse{},
				responseName: map[string]string{}}
			for state, resp := range states {
				seq, ok := responses[resp]
				if !ok {
					return nil, errors.Newf("test case %q of state machine %q: no mocked response %q", tcName, smName, resp)
				}
				tc.states[state], tc.responseName[state] = seq, resp
			}
			cases[tcName] = tc
		}
		c.machines[smName] = cases
	}
	return c, nil
}

// invocationRange parses "N" or "N-M".
func invocationRange(key string) (from, to int, err error) {
	a, b, isRange := strings.Cut(strings.TrimSpace(key), "-")
	if from, err = strconv.Atoi(strings.TrimSpace(a)); err != nil || from < 0 {
		return 0, 0, errors.Newf("invalid invocation key %q: want \"N\" or \"N-M\"", key)
	}
	to = from
	if isRange {
		if to, err = strconv.Atoi(strings.TrimSpace(b)); err != nil || to < from {
			return 0, 0, errors.Newf("invalid invocation range %q", key)
		}
	}
	return from, to, nil
}

// TestCase returns a state machine's test case.
func (c *MockConfig) TestCase(stateMachine, testCase string) (*MockTestCase, bool) {
	if c == nil {
		return nil, false
	}
	tc, ok := c.machines[stateMachine][testCase]
	return tc, ok
}

// Mocks reports whether the test case mocks a state.
func (tc *MockTestCase) Mocks(state string) bool {
	_, ok := tc.states[state]
	return ok
}

// Response is the mocked response of a state's invocation (counted from 0); ok is
// false when the test case defines none for that invocation.
func (tc *MockTestCase) Response(state string, invocation int) (MockResponse, bool) {
	seq := tc.states[state]
	if invocation < 0 || invocation >= len(seq) {
		return MockResponse{}, false
	}
	return seq[invocation], true
}

// ---- the execution actor's side ----

// mockRun is an execution's test case and the invocations of its Task states.
type mockRun struct {
	tc     *MockTestCase
	counts map[string]int   // invocations so far, by state name
	index  map[int64]int    // invocation of each scheduled task, by scheduled event id
	state  map[int64]string // state of each scheduled task
}

// scheduled counts a task scheduled by event id (live, or while rebuilding).
func (m *mockRun) scheduled(x *asl.Execution, id int64) {
	if _, seen := m.index[id]; seen {
		return
	}
	name, ok := x.TaskState(id)
	if !ok {
		return
	}
	if m.state == nil {
		m.state = map[int64]string{}
	}
	m.index[id], m.state[id] = m.counts[name], name
	m.counts[name]++
}

// isScheduled tells the events that schedule a task.
func isScheduled(ev *events.HistoryEvent) bool {
	return ev.TaskScheduledEventDetails != nil || ev.ActivityScheduledEventDetails != nil ||
		ev.LambdaFunctionScheduledEventDetails != nil
}

// rebuildNested folds the history of a nested or mocked execution like asl.Rebuild,
// restoring its parent and test case from ExecutionStarted and counting the
// invocations of every Task state (they choose mocked responses).
func (a *execActor) rebuildNested(hist []events.HistoryEvent) *asl.Execution {
	x := asl.NewExecution(a.sm)
	for i := range hist {
		x.Apply(&hist[i])
		if i == 0 {
			if ext := hist[0].Ext; ext != nil {
				a.nestedStarted(ext.Parent, x.Info().StateMachineName, ext.MockTestCase)
			}
			continue
		}
		if a.mock != nil && isScheduled(&hist[i]) {
			a.mock.scheduled(x, hist[i].ID)
		}
	}
	return x
}

// mocked carries out a task effect from the execution's test case; it returns false
// when the task's state is not mocked (the task is dispatched normally).
func (a *execActor) mocked(ctx context.Context, ef asl.Effect) bool {
	m := a.mock
	if m == nil || a.x == nil {
		return false
	}
	var sched int64
	pattern := ""
	switch ef := ef.(type) {
	case asl.ScheduleActivity:
		sched = ef.ScheduledEventID
	case asl.InvokeTask:
		sched = ef.ScheduledEventID
		_, pattern = splitPattern(ef.ResourceName)
	default:
		return false
	}
	m.scheduled(a.x, sched)
	state, ok := m.state[sched]
	if !ok || !m.tc.Mocks(state) {
		return false
	}
	inv := m.index[sched]
	resp, ok := m.tc.Response(state, inv)
	var results []events.TaskResult
	switch {
	case !ok:
		results = []events.TaskResult{{Status: "Failed", Error: "States.Runtime",
			Cause: "No mocked response definition for state '" + state + "' and invocation '" + strconv.Itoa(inv) +
				"' in test case '" + m.tc.Name + "' (mocked response '" + m.tc.responseName[state] + "')."}}
	case resp.Throws():
		results = []events.TaskResult{{Status: "Started"}, {Status: "Failed", Error: resp.Error, Cause: resp.Cause}}
	case pattern == "waitForTaskToken":
		out := string(resp.Return)
		results = []events.TaskResult{{Status: "Started"}, {Status: "Submitted", Output: out}, {Status: "Succeeded", Output: out}}
	default:
		results = []events.TaskResult{{Status: "Started"}, {Status: "Succeeded", Output: string(resp.Return)}}
	}
	for _, r := range results {
		r.ScheduledEventID = sched
		what := map[string]string{"Started": "started", "Submitted": "submitted"}[r.Status]
		if what == "" {
			what = "result"
		}
		cmd := events.Command{Kind: events.CmdTaskResult, ExecARN: a.arn, Time: a.engine.cfg.Now().UTC(), Task: &r}
		if err := a.engine.store.PublishCommand(ctx, cmd, a.arn+"#"+strconv.FormatInt(sched, 10)+"#"+what); err != nil {
			a.engine.cfg.Logger.Error("report mocked task result", "execution", a.arn, "task", sched, "err", err)
			return true
		}
	}
	return true
}
