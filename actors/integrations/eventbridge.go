package integrations

// EventBridge's optimized integration (arn:aws:states:::events:putEvents
// [.waitForTaskToken]): Parameters Entries (Detail as a JSON value or text,
// DetailType, Source, EventBusName, Resources, Time); the output is PutEvents' answer
// (Entries with EventId, FailedEntryCount); errors are EventBridge.<Code>.
func newEventBridge(a *AWS) *optimized {
	return &optimized{aws: a, svc: &eventBridgeService,
		style:    errorStyle{prefix: "EventBridge", service: "EventBridge"},
		patterns: map[string][]string{"putEvents": {"", "waitForTaskToken"}}}
}
