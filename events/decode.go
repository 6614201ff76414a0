package events

import (
	"encoding/json"

	"github.com/cockroachdb/errors"
)

// DecodeHistoryMsg appends the events of one history message to out: a JSON array
// (one decision) or, in histories written before, one event.
func DecodeHistoryMsg(data []byte, out []HistoryEvent) ([]HistoryEvent, error) {
	if len(data) > 0 && data[0] == '[' {
		var evs []HistoryEvent
		if err := json.Unmarshal(data, &evs); err != nil {
			return out, errors.Wrap(err, "decode history events")
		}
		return append(out, evs...), nil
	}
	var ev HistoryEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		return out, errors.Wrap(err, "decode history event")
	}
	return append(out, ev), nil
}
