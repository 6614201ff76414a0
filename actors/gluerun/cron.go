package gluerun

import (
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/errors"
)

// Cron is a parsed Glue schedule, "cron(Minutes Hours Day-of-month Month Day-of-week
// Year)" in UTC. Supported: numbers, names (JAN-DEC, SUN-SAT), "*", "?", lists, ranges
// and steps ("0/5", "*/10", "1-5/2"). Exactly one of day-of-month and day-of-week must
// be "?". L, W and # are refused.
type Cron struct {
	min, hour, dom, month, dow, year fieldSet
	domAny, dowAny                   bool
}

type fieldSet map[int]bool

var monthNames = map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}
var dayNames = map[string]int{"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}

// ParseCron parses a schedule expression.
func ParseCron(expr string) (*Cron, error) {
	e := strings.TrimSpace(expr)
	if !strings.HasPrefix(e, "cron(") || !strings.HasSuffix(e, ")") {
		return nil, errors.New("the expression must have the form cron(Minutes Hours Day-of-month Month Day-of-week Year)")
	}
	f := strings.Fields(e[5 : len(e)-1])
	if len(f) != 6 {
		return nil, errors.Newf("expected 6 fields, got %d", len(f))
	}
	if (f[2] == "?") == (f[4] == "?") {
		return nil, errors.New("exactly one of day-of-month and day-of-week must be '?'")
	}
	c := &Cron{domAny: f[2] == "?", dowAny: f[4] == "?"}
	var err error
	specs := []struct {
		s        string
		lo, hi   int
		names    map[string]int
		out      *fieldSet
		question bool
	}{
		{f[0], 0, 59, nil, &c.min, false}, {f[1], 0, 23, nil, &c.hour, false},
		{f[2], 1, 31, nil, &c.dom, true}, {f[3], 1, 12, monthNames, &c.month, false},
		{f[4], 1, 7, dayNames, &c.dow, true}, {f[5], 1970, 2199, nil, &c.year, false},
	}
	for _, sp := range specs {
		if sp.s == "?" && sp.question {
			*sp.out = nil
			continue
		}
		if *sp.out, err = parseField(sp.s, sp.lo, sp.hi, sp.names); err != nil {
			return nil, errors.Wrapf(err, "field %q", sp.s)
		}
	}
	return c, nil
}

func parseField(s string, lo, hi int, names map[string]int) (fieldSet, error) {
	set := fieldSet{}
	for _, part := range strings.Split(s, ",") {
		step := 1
		if base, st, ok := strings.Cut(part, "/"); ok {
			n, err := strconv.Atoi(st)
			if err != nil || n < 1 {
				return nil, errors.Newf("bad step %q", st)
			}
			part, step = base, n
		}
		from, to := lo, hi
		switch {
		case part == "*":
		case strings.Contains(part, "-"):
			a, b, _ := strings.Cut(part, "-")
			var err error
			if from, err = value(a, names); err != nil {
				return nil, err
			}
			if to, err = value(b, names); err != nil {
				return nil, err
			}
		default:
			v, err := value(part, names)
			if err != nil {
				return nil, err
			}
			from = v
			if step == 1 {
				to = v
			}
		}
		if from < lo || to > hi || from > to {
			return nil, errors.Newf("value out of range %d-%d", lo, hi)
		}
		for v := from; v <= to; v += step {
			set[v] = true
		}
	}
	return set, nil
}

func value(s string, names map[string]int) (int, error) {
	if v, ok := names[strings.ToUpper(s)]; ok {
		return v, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, errors.Newf("bad value %q", s)
	}
	return v, nil
}

// Next returns the first instant strictly after t that the schedule matches, or the
// zero time when there is none before 2200.
func (c *Cron) Next(t time.Time) time.Time {
	t = t.UTC().Truncate(time.Minute).Add(time.Minute)
	for t.Year() < 2200 {
		if !c.year[t.Year()] {
			t = time.Date(t.Year()+1, 1, 1, 0, 0, 0, 0, time.UTC)
			continue
		}
		if !c.month[int(t.Month())] {
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC)
			continue
		}
		if !c.dayMatches(t) {
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, time.UTC)
			continue
		}
		if !c.hour[t.Hour()] {
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour()+1, 0, 0, 0, time.UTC)
			continue
		}
		if !c.min[t.Minute()] {
			t = t.Add(time.Minute)
			continue
		}
		return t
	}
	return time.Time{}
}

func (c *Cron) dayMatches(t time.Time) bool {
	if c.domAny {
		return c.dow[int(t.Weekday())+1]
	}
	return c.dom[t.Day()]
}
