// Package audit replays and verifies stored execution histories: the reusable part of
// `sfnd history export|replay|verify`.
//
//   - MarshalAWS / ParseHistory convert between sfnd's stored events and AWS's
//     GetExecutionHistory JSON (epoch-seconds timestamps), so a history exported from
//     sfnd or from AWS itself can be read back.
//   - CheckInvariants checks the shape every history must have: ids 1..n, sane
//     previousEventIds, exactly one ExecutionStarted first, at most one terminal event
//     and only last.
//   - Replay folds a history into a state timeline (state, input, output, error) from
//     the events alone, and, when the history carries sfnd's bookkeeping (Ext), also
//     rebuilds the execution with the decider's own Apply and checks that the rebuilt
//     execution ends as the history says.
//   - Verify re-runs the decider over a history, decision by decision, and reports the
//     first event where what it decides differs from what was recorded.
//
// The package is pure: it reads no store. cmd/sfnd feeds it histories from JetStream
// or from files.
package audit

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/errors"

	"github.com/sfnd/sfnd/events"
)

// ErrMalformed marks a history that is not a readable or well-formed history.
var ErrMalformed = errors.New("malformed history")

// epoch is a timestamp as AWS's JSON 1.0 protocol sends it: seconds since the epoch,
// with millisecond precision.
type epoch time.Time

func (t epoch) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	return []byte(strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64)), nil
}

// UnmarshalJSON accepts epoch seconds (1.700000000123E9 as AWS sends them, or plain
// decimals) and RFC 3339 strings (as the AWS CLI and SDK printers render them).
func (t *epoch) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999-07:00", "2006-01-02T15:04:05.999999999"} {
			if p, err := time.Parse(layout, s); err == nil {
				*t = epoch(p.UTC())
				return nil
			}
		}
		return errors.Newf("timestamp %q is neither epoch seconds nor RFC 3339", s)
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return errors.Wrapf(err, "timestamp %s", b)
	}
	sec, frac := math.Modf(f)
	*t = epoch(time.Unix(int64(sec), int64(math.Round(frac*1000))*int64(time.Millisecond)).UTC())
	return nil
}

// wireEvent is a HistoryEvent as GetExecutionHistory answers it.
type wireEvent struct {
	Timestamp epoch `json:"timestamp"`
	events.HistoryEvent
	Ext *events.Ext `json:"sfnd,omitempty"`
}

// MarshalAWS renders a history as AWS's GetExecutionHistory answer
// ({"events": [...]}, epoch-seconds timestamps). sfnd's private bookkeeping (Ext) is
// left out unless withExt, which keeps it under "sfnd" so the file can still be
// verified offline (AWS clients ignore the unknown member).
func MarshalAWS(h []events.HistoryEvent, withExt bool) ([]byte, error) {
	out := struct {
		Events []wireEvent `json:"events"`
	}{Events: make([]wireEvent, 0, len(h))}
	for _, ev := range h {
		w := wireEvent{HistoryEvent: ev, Timestamp: epoch(ev.Timestamp)}
		w.HistoryEvent.Ext = nil
		if withExt {
			w.Ext = ev.Ext
		}
		out.Events = append(out.Events, w)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return nil, errors.Wrap(err, "encode history")
	}
	return buf.Bytes(), nil
}

// ParseHistory reads a history from JSON: a GetExecutionHistory answer
// ({"events": [...]}, as `aws stepfunctions get-execution-history` prints it or
// `sfnd history export` writes it), several such pages concatenated, or a bare array
// of events. Timestamps may be epoch seconds or RFC 3339 strings. Events are returned
// in id order (a reverse-order export is turned around).
func ParseHistory(data []byte) ([]events.HistoryEvent, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var out []events.HistoryEvent
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, errors.Mark(errors.Wrap(err, "read history JSON"), ErrMalformed)
		}
		var list []wireEvent
		trimmed := bytes.TrimSpace(raw)
		if len(trimmed) > 0 && trimmed[0] == '[' {
			if err := json.Unmarshal(raw, &list); err != nil {
				return nil, errors.Mark(errors.Wrap(err, "decode events"), ErrMalformed)
			}
		} else {
			var page struct {
				Events []wireEvent `json:"events"`
			}
			if err := json.Unmarshal(raw, &page); err != nil {
				return nil, errors.Mark(errors.Wrap(err, "decode GetExecutionHistory answer"), ErrMalformed)
			}
			list = page.Events
		}
		for _, w := range list {
			ev := w.HistoryEvent
			ev.Timestamp = time.Time(w.Timestamp)
			ev.Ext = w.Ext
			out = append(out, ev)
		}
	}
	if len(out) == 0 {
		return nil, errors.Mark(errors.New("no events"), ErrMalformed)
	}
	sortByID(out)
	return out, nil
}

func sortByID(h []events.HistoryEvent) {
	// Insertion sort keeps already ordered input (the usual case) linear; a reverse
	// export is reversed first.
	if len(h) > 1 && h[0].ID > h[len(h)-1].ID {
		for i, j := 0, len(h)-1; i < j; i, j = i+1, j-1 {
			h[i], h[j] = h[j], h[i]
		}
	}
	for i := 1; i < len(h); i++ {
		for j := i; j > 0 && h[j-1].ID > h[j].ID; j-- {
			h[j-1], h[j] = h[j], h[j-1]
		}
	}
}

// IsTerminal tells whether an event type ends an execution.
func IsTerminal(t events.Type) bool {
	switch t {
	case events.ExecutionSucceeded, events.ExecutionFailed, events.ExecutionAborted, events.ExecutionTimedOut:
		return true
	}
	return false
}

// CheckInvariants checks the shape of a history: event ids are 1..n in order, every
// previousEventId is 0 or an earlier event, the first event and only it is
// ExecutionStarted, and a terminal event (succeeded, failed, aborted, timed out), if
// any, is the last one or is followed by ExecutionRedriven (failed, aborted and timed
// out executions can be redriven). complete additionally requires the terminal event. The error
// names the offending event.
func CheckInvariants(h []events.HistoryEvent, complete bool) error {
	if len(h) == 0 {
		return errors.Mark(errors.New("empty history"), ErrMalformed)
	}
	for i, ev := range h {
		if ev.ID != int64(i+1) {
			return errors.Mark(errors.Newf("event #%d has id %d, want %d", i+1, ev.ID, i+1), ErrMalformed)
		}
		if ev.PreviousEventID < 0 || ev.PreviousEventID >= ev.ID {
			return errors.Mark(errors.Newf("event %d (%s) has previousEventId %d", ev.ID, ev.Type, ev.PreviousEventID), ErrMalformed)
		}
		if (ev.Type == events.ExecutionStarted) != (i == 0) {
			if i == 0 {
				return errors.Mark(errors.Newf("event 1 is %s, want ExecutionStarted", ev.Type), ErrMalformed)
			}
			return errors.Mark(errors.Newf("event %d is a second ExecutionStarted", ev.ID), ErrMalformed)
		}
		if IsTerminal(ev.Type) && i != len(h)-1 && (ev.Type == events.ExecutionSucceeded || h[i+1].Type != events.ExecutionRedriven) {
			return errors.Mark(errors.Newf("terminal event %d (%s) is followed by %d more", ev.ID, ev.Type, len(h)-1-i), ErrMalformed)
		}
	}
	if last := h[len(h)-1]; complete && !IsTerminal(last.Type) {
		return errors.Mark(errors.Newf("history ends with event %d (%s), not a terminal event", last.ID, last.Type), ErrMalformed)
	}
	return nil
}

// StateType is the state type an event type belongs to ("Pass" for
// PassStateEntered), or "" for other events.
func StateType(t events.Type) string {
	s := string(t)
	for _, suffix := range []string{"StateEntered", "StateExited"} {
		if strings.HasSuffix(s, suffix) {
			return strings.TrimSuffix(s, suffix)
		}
	}
	return ""
}
