package sfn

import (
	"context"
	"regexp"
	"time"

	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/fault"
)

// RedriveExecution: an execution that failed, was aborted or timed out runs again from
// where it stopped (actors/asl/redrive.go). The API checks AWS's conditions, hands the
// redrive to the execution as a durable command and waits for ExecutionRedriven.

// AWS's redrive limits.
const (
	// redriveWindow: an execution can be redriven for 14 days after it stopped.
	redriveWindow = 14 * 24 * time.Hour
	// maxOpenTime: an execution open for more than a year cannot be redriven.
	maxOpenTime = 365 * 24 * time.Hour
	// maxRedriveHistory: the history must have fewer events, to leave room for
	// ExecutionRedriven and at least one more event under the 25,000-event quota.
	maxRedriveHistory = 24999
	// redriveTokenLife: a clientToken answers idempotently for 15 minutes.
	redriveTokenLife = 15 * time.Minute
)

// Redrive statuses (ExecutionRedriveStatus).
const (
	redrivable        = "REDRIVABLE"
	notRedrivable     = "NOT_REDRIVABLE"
	redrivableByMapRn = "REDRIVABLE_BY_MAP_RUN"
)

// Why an execution is not redrivable: AWS's redriveStatusReason texts, which
// ExecutionNotRedrivable's message repeats.
const (
	reasonDeleting    = "State machine is in DELETING status"
	reasonRunning     = "Execution is RUNNING and cannot be redriven"
	reasonSucceeded   = "Execution is SUCCEEDED and cannot be redriven"
	reasonHistory     = "Execution history event limit exceeded"
	reasonMaxTime     = "Execution has exceeded the max execution time"
	reasonPeriod      = "Execution redrivable period exceeded"
	reasonExpressChld = "Execution is of type EXPRESS and is redriven by redriving its Map Run"
)

// redriveStatus says whether an execution can be redriven now, and why not.
func (s *Server) redriveStatus(rec events.ExecutionRecord) (status, reason string) {
	return redriveStatusAt(rec, s.cfg.Now(), s.isDeleting(rec.StateMachineARN))
}

func (s *Server) isDeleting(smARN string) bool {
	_, ok := s.deleting.Load(smARN)
	return ok
}

func redriveStatusAt(rec events.ExecutionRecord, now time.Time, deleting bool) (status, reason string) {
	switch rec.Status {
	case "RUNNING", "PENDING_REDRIVE":
		return notRedrivable, reasonRunning
	case "SUCCEEDED":
		return notRedrivable, reasonSucceeded
	}
	if rec.Start != nil && rec.Start.MapRun != nil && rec.Start.MapRun.Express {
		return redrivableByMapRn, ""
	}
	switch {
	case deleting:
		return notRedrivable, reasonDeleting
	case now.Sub(rec.StartDate) > maxOpenTime:
		return notRedrivable, reasonMaxTime
	case rec.StopDate != nil && now.Sub(*rec.StopDate) > redriveWindow:
		return notRedrivable, reasonPeriod
	case rec.LastEventID >= maxRedriveHistory:
		return notRedrivable, reasonHistory
	}
	return redrivable, ""
}

var clientTokenPattern = regexp.MustCompile(`^[!-~]+$`)

type redriveOutput struct {
	RedriveDate Time `json:"redriveDate"`
}

func (s *Server) redriveExecution(ctx context.Context, r *request) (any, error) {
	var in struct {
		ExecutionArn *string `json:"executionArn"`
		ClientToken  *string `json:"clientToken"`
	}
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	v.RequiredString("executionArn", in.ExecutionArn, 1, 256)
	v.OptionalString("clientToken", in.ClientToken, 1, 64)
	if in.ClientToken != nil && *in.ClientToken != "" && len(*in.ClientToken) <= 64 && !clientTokenPattern.MatchString(*in.ClientToken) {
		v.Add("Value '%s' at 'clientToken' failed to satisfy constraint: Member must satisfy regular expression pattern: [!-~]+", *in.ClientToken)
	}
	execARN, err := checkedARN(v, in.ExecutionArn, "execution")
	if err != nil {
		return nil, err
	}
	rec, err := s.lookupExecution(ctx, execARN)
	if err != nil {
		return nil, err
	}
	token := deref(in.ClientToken)
	now := s.cfg.Now().UTC()
	if d, ok := tokenUsed(rec, token, now); ok {
		return redriveOutput{Time(d)}, nil // the same request again: the same answer
	}
	if status, reason := s.redriveStatus(rec); status != redrivable {
		if status == redrivableByMapRn {
			reason = reasonExpressChld
		}
		return nil, fault.New(fault.ExecutionNotRedrivable, "%s", reason)
	}
	cmd := events.Command{Kind: events.CmdRedrive, ExecARN: execARN, Time: now, ClientToken: token}
	progress, stop := s.engine.Watch(execARN)
	defer stop()
	if err := s.hist.PublishCommand(ctx, cmd, ""); err != nil {
		return nil, err
	}
	// As for StopExecution: this node's engine gets the command too; whichever copy
	// comes second finds the execution running again and decides nothing.
	s.engine.Deliver(cmd, nil)
	wait, cancel := context.WithTimeout(ctx, startWait)
	defer cancel()
	for done := false; !done; {
		select {
		case p := <-progress:
			done = p.Settled && p.LastEventID > rec.LastEventID
		case <-wait.Done():
			done = true
		}
	}
	// The read model shows the redrive once the owner (or the projection) folded it.
	for tick := 5 * time.Millisecond; ; tick = min(2*tick, 100*time.Millisecond) {
		cur, err := s.lookupExecution(wait, execARN)
		if err == nil && cur.RedriveCount > rec.RedriveCount {
			if token == "" {
				return redriveOutput{Time(*cur.RedriveDate)}, nil
			}
			if d, ok := tokenUsed(cur, token, now); ok {
				return redriveOutput{Time(d)}, nil
			}
			// Another request redrove it first: this one did nothing.
			_, reason := redriveStatusAt(cur, now, false)
			if reason == "" {
				reason = reasonRunning
			}
			return nil, fault.New(fault.ExecutionNotRedrivable, "%s", reason)
		}
		select {
		case <-time.After(tick):
		case <-wait.Done():
			return nil, wait.Err()
		}
	}
}

// tokenUsed reports whether token started one of the execution's last redrives less
// than 15 minutes ago, and when.
func tokenUsed(rec events.ExecutionRecord, token string, now time.Time) (time.Time, bool) {
	if token == "" {
		return time.Time{}, false
	}
	for i := len(rec.RedriveTokens) - 1; i >= 0; i-- {
		t := rec.RedriveTokens[i]
		if t.Token == token && now.Sub(t.Date) <= redriveTokenLife {
			return t.Date, true
		}
	}
	return time.Time{}, false
}
