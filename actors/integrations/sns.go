package integrations

// SNS's optimized integration (arn:aws:states:::sns:publish[.waitForTaskToken]):
// Parameters TopicArn or TargetArn or PhoneNumber, Message (a JSON value is sent as
// its text), Subject, MessageAttributes, MessageStructure, MessageDeduplicationId,
// MessageGroupId; the output is Publish's answer (MessageId, SequenceNumber) with
// SdkHttpMetadata and SdkResponseMetadata; errors are SNS.<Code>.
func newSNS(a *AWS) *optimized {
	return &optimized{aws: a, svc: &snsService, sdkMeta: true,
		style:    errorStyle{prefix: "SNS", service: "AmazonSNS", v1: true},
		patterns: map[string][]string{"publish": {"", "waitForTaskToken"}}}
}
