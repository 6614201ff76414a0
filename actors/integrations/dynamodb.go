package integrations

// DynamoDB's optimized integration (arn:aws:states:::dynamodb:<action>): getItem,
// putItem, updateItem and deleteItem, request-response only, as AWS documents it.
// Parameters are the DynamoDB API's (TableName, Key, Item, ConditionExpression,
// ExpressionAttributeValues in DynamoDB JSON: {"S": "x"}); the output is the API's
// answer with SdkHttpMetadata and SdkResponseMetadata; errors are
// DynamoDB.<Code> (DynamoDB.ConditionalCheckFailedException,
// DynamoDB.ResourceNotFoundException, ...).
func newDynamoDB(a *AWS) *optimized {
	rr := []string{""}
	return &optimized{aws: a, svc: &dynamodbService, sdkMeta: true,
		style:    errorStyle{prefix: "DynamoDB", service: "AmazonDynamoDBv2", v1: true},
		patterns: map[string][]string{"getItem": rr, "putItem": rr, "updateItem": rr, "deleteItem": rr}}
}
