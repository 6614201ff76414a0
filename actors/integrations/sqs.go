package integrations

// SQS's optimized integration (arn:aws:states:::sqs:sendMessage[.waitForTaskToken]):
// Parameters QueueUrl, MessageBody (a JSON value is sent as its text),
// DelaySeconds, MessageAttributes, MessageDeduplicationId, MessageGroupId; the output
// is SendMessage's answer (MD5OfMessageBody, MessageId, ...) with SdkHttpMetadata and
// SdkResponseMetadata; errors are SQS.<Code> (SQS.QueueDoesNotExistException, ...).
func newSQS(a *AWS) *optimized {
	return &optimized{aws: a, svc: &sqsService, sdkMeta: true,
		style:    errorStyle{prefix: "SQS", service: "AmazonSQS", v1: true},
		patterns: map[string][]string{"sendMessage": {"", "waitForTaskToken"}}}
}
