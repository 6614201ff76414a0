package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sfnd/sfnd/test/testutil"
)

// TestValidationGaps covers the validation AWS does that sfnd once skipped
// (issue 10, items 10 and 11), through the Go SDK where it can send the request.
func TestValidationGaps(t *testing.T) {
	c := client(region)
	name := uniq("gaps")
	sm := createSM(t, c, name, passDefinition("g"))
	arn := aws.ToString(sm.StateMachineArn)

	t.Run("traceHeader", func(t *testing.T) {
		_, err := c.StartExecution(ctx(t), &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, TraceHeader: aws.String(strings.Repeat("t", 257))})
		wantErr(t, err, "ValidationException", "1 validation error detected: Value '"+strings.Repeat("t", 257)+
			"' at 'traceHeader' failed to satisfy constraint: Member must have length less than or equal to 256")
		_, err = c.StartExecution(ctx(t), &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, TraceHeader: aws.String(strings.Repeat("t", 256))})
		ok(t, err)
	})

	t.Run("includedData", func(t *testing.T) {
		st, err := c.StartExecution(ctx(t), &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Input: aws.String(`{"secret":1}`)})
		ok(t, err)
		testutil.WaitDone(t, c, aws.ToString(st.ExecutionArn), 10*time.Second)
		full, err := c.DescribeExecution(ctx(t), &sfn.DescribeExecutionInput{ExecutionArn: st.ExecutionArn})
		ok(t, err)
		if aws.ToString(full.Input) != `{"secret":1}` || aws.ToString(full.Output) != `"g"` {
			t.Fatalf("ALL_DATA describe: input %q output %q", aws.ToString(full.Input), aws.ToString(full.Output))
		}
		meta, err := c.DescribeExecution(ctx(t), &sfn.DescribeExecutionInput{ExecutionArn: st.ExecutionArn, IncludedData: types.IncludedDataMetadataOnly})
		ok(t, err)
		if meta.Input != nil || meta.Output != nil || meta.Status != types.ExecutionStatusSucceeded {
			t.Fatalf("METADATA_ONLY execution: input %v output %v status %s", meta.Input, meta.Output, meta.Status)
		}
		dsm, err := c.DescribeStateMachine(ctx(t), &sfn.DescribeStateMachineInput{StateMachineArn: sm.StateMachineArn, IncludedData: types.IncludedDataMetadataOnly})
		ok(t, err)
		if dsm.Definition != nil || aws.ToString(dsm.Name) != name {
			t.Fatalf("METADATA_ONLY state machine: definition %v name %s", dsm.Definition, aws.ToString(dsm.Name))
		}
		fe, err := c.DescribeStateMachineForExecution(ctx(t), &sfn.DescribeStateMachineForExecutionInput{ExecutionArn: st.ExecutionArn, IncludedData: types.IncludedDataMetadataOnly})
		ok(t, err)
		if fe.Definition != nil || aws.ToString(fe.Name) != name {
			t.Fatalf("METADATA_ONLY for execution: definition %v", fe.Definition)
		}
		fe, err = c.DescribeStateMachineForExecution(ctx(t), &sfn.DescribeStateMachineForExecutionInput{ExecutionArn: st.ExecutionArn})
		ok(t, err)
		if aws.ToString(fe.Definition) != passDefinition("g") {
			t.Fatalf("ALL_DATA for execution: definition %v", fe.Definition)
		}
		r := raw(t, "AWSStepFunctions.DescribeExecution", `{"executionArn":"`+aws.ToString(st.ExecutionArn)+`","includedData":"SOME"}`)
		wantRawErr(t, r, "ValidationException", "1 validation error detected: Value 'SOME' at 'includedData' failed to satisfy constraint: Member must satisfy enum value set: [ALL_DATA, METADATA_ONLY]")
	})

	t.Run("extra ARN segments", func(t *testing.T) {
		for _, bad := range []string{arn + ":::::", arn + ":", arn + "::1"} {
			_, err := c.DescribeStateMachine(ctx(t), &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(bad)})
			wantErr(t, err, "InvalidArn", "Invalid Arn: '"+bad+"'")
			_, err = c.StartExecution(ctx(t), &sfn.StartExecutionInput{StateMachineArn: aws.String(bad)})
			wantErr(t, err, "InvalidArn", "Invalid Arn: '"+bad+"'")
		}
	})

	t.Run("invalid UTF-8", func(t *testing.T) {
		before := raw(t, "AWSStepFunctions.ListActivities", `{}`).Text
		for _, body := range []string{"{\"name\":\"a\xffb\"}", "{\"name\":\"ok\",\"tags\":[{\"key\":\"\xc3\x28\",\"value\":\"v\"}]}"} {
			wantRawErr(t, raw(t, "AWSStepFunctions.CreateActivity", body), "SerializationException", "Invalid UTF-8")
		}
		if after := raw(t, "AWSStepFunctions.ListActivities", `{}`).Text; after != before {
			t.Fatal("a refused request created an activity")
		}
	})

	t.Run("aliases and versions", func(t *testing.T) {
		pub, err := c.PublishStateMachineVersion(ctx(t), &sfn.PublishStateMachineVersionInput{StateMachineArn: sm.StateMachineArn})
		ok(t, err)
		al, err := c.CreateStateMachineAlias(ctx(t), &sfn.CreateStateMachineAliasInput{Name: aws.String("live"),
			RoutingConfiguration: []types.RoutingConfigurationListItem{{StateMachineVersionArn: pub.StateMachineVersionArn, Weight: 100}}})
		ok(t, err)
		_, err = c.UpdateStateMachineAlias(ctx(t), &sfn.UpdateStateMachineAliasInput{StateMachineAliasArn: al.StateMachineAliasArn})
		wantErr(t, err, "ValidationException", "Either the description or the RoutingConfiguration must be specified")
		// A well-formed ARN naming no state machine: InvalidArn too (AWS documents no
		// StateMachineDoesNotExist for ListStateMachineVersions).
		for _, bad := range []string{aws.ToString(pub.StateMachineVersionArn), aws.ToString(al.StateMachineAliasArn), arn + ":::", arn + "-gone"} {
			_, err = c.ListStateMachineVersions(ctx(t), &sfn.ListStateMachineVersionsInput{StateMachineArn: aws.String(bad)})
			wantErr(t, err, "InvalidArn", "Invalid Arn: '"+bad+"'")
		}
		lv, err := c.ListStateMachineVersions(ctx(t), &sfn.ListStateMachineVersionsInput{StateMachineArn: sm.StateMachineArn})
		ok(t, err)
		if len(lv.StateMachineVersions) != 1 {
			t.Fatalf("%d versions", len(lv.StateMachineVersions))
		}
	})

	t.Run("encryption", func(t *testing.T) {
		d, err := c.DescribeStateMachine(ctx(t), &sfn.DescribeStateMachineInput{StateMachineArn: sm.StateMachineArn})
		ok(t, err)
		if d.EncryptionConfiguration == nil || d.EncryptionConfiguration.Type != types.EncryptionTypeAwsOwnedKey {
			t.Fatalf("default encryption %+v", d.EncryptionConfiguration)
		}
		for _, enc := range []*types.EncryptionConfiguration{
			{Type: types.EncryptionTypeCustomerManagedKmsKey},
			{Type: types.EncryptionTypeCustomerManagedKmsKey, KmsKeyId: aws.String("alias/k"), KmsDataKeyReusePeriodSeconds: aws.Int32(59)},
			{Type: types.EncryptionTypeCustomerManagedKmsKey, KmsKeyId: aws.String("alias/k"), KmsDataKeyReusePeriodSeconds: aws.Int32(901)},
		} {
			_, err := c.CreateStateMachine(ctx(t), &sfn.CreateStateMachineInput{Name: aws.String(uniq("enc")), Definition: aws.String(passDefinition("e")),
				RoleArn: aws.String(roleArn), EncryptionConfiguration: enc})
			wantErr(t, err, "InvalidEncryptionConfiguration", "")
			_, err = c.UpdateStateMachine(ctx(t), &sfn.UpdateStateMachineInput{StateMachineArn: sm.StateMachineArn, EncryptionConfiguration: enc})
			wantErr(t, err, "InvalidEncryptionConfiguration", "")
			_, err = c.CreateActivity(ctx(t), &sfn.CreateActivityInput{Name: aws.String(uniq("enc")), EncryptionConfiguration: enc})
			wantErr(t, err, "InvalidEncryptionConfiguration", "")
		}
		_, err = c.CreateStateMachine(ctx(t), &sfn.CreateStateMachineInput{Name: aws.String(uniq("enc")), Definition: aws.String(passDefinition("e")),
			RoleArn: aws.String(roleArn), EncryptionConfiguration: &types.EncryptionConfiguration{Type: "PLAINTEXT"}})
		wantErr(t, err, "ValidationException", "1 validation error detected: Value 'PLAINTEXT' at 'encryptionConfiguration.type' failed to satisfy constraint: Member must satisfy enum value set: [AWS_OWNED_KEY, CUSTOMER_MANAGED_KMS_KEY]")

		encName := uniq("enc")
		cm := createSM(t, c, encName, passDefinition("e"), func(in *sfn.CreateStateMachineInput) {
			in.EncryptionConfiguration = &types.EncryptionConfiguration{Type: types.EncryptionTypeCustomerManagedKmsKey, KmsKeyId: aws.String("alias/k")}
		})
		d, err = c.DescribeStateMachine(ctx(t), &sfn.DescribeStateMachineInput{StateMachineArn: cm.StateMachineArn})
		ok(t, err)
		if e := d.EncryptionConfiguration; e == nil || e.Type != types.EncryptionTypeCustomerManagedKmsKey || aws.ToString(e.KmsKeyId) != "alias/k" ||
			aws.ToInt32(e.KmsDataKeyReusePeriodSeconds) != 300 {
			t.Fatalf("customer managed encryption %+v", e)
		}
		// Creating it again with the same configuration is an idempotent repeat.
		createSM(t, c, encName, passDefinition("e"), func(in *sfn.CreateStateMachineInput) {
			in.EncryptionConfiguration = &types.EncryptionConfiguration{Type: types.EncryptionTypeCustomerManagedKmsKey, KmsKeyId: aws.String("alias/k")}
		})
		st, err := c.StartExecution(ctx(t), &sfn.StartExecutionInput{StateMachineArn: cm.StateMachineArn})
		ok(t, err)
		fe, err := c.DescribeStateMachineForExecution(ctx(t), &sfn.DescribeStateMachineForExecutionInput{ExecutionArn: st.ExecutionArn})
		ok(t, err)
		if e := fe.EncryptionConfiguration; e == nil || e.Type != types.EncryptionTypeCustomerManagedKmsKey || aws.ToString(e.KmsKeyId) != "alias/k" {
			t.Fatalf("DescribeStateMachineForExecution encryption %+v", e)
		}
	})

	t.Run("role ARNs", func(t *testing.T) {
		for _, bad := range []string{"bad", "<execution-role-arn>", "arn:aws:iam::123456789012:user/u", "arn:aws:iam::acct:role/r",
			"arn:aws:iam::123456789012:role/", "arn:aws:s3:::bucket"} {
			_, err := c.CreateStateMachine(ctx(t), &sfn.CreateStateMachineInput{Name: aws.String(uniq("role")), Definition: aws.String(passDefinition("r")),
				RoleArn: aws.String(bad)})
			wantErr(t, err, "InvalidArn", "Invalid Role Arn: '"+bad+"'")
			_, err = c.UpdateStateMachine(ctx(t), &sfn.UpdateStateMachineInput{StateMachineArn: sm.StateMachineArn, RoleArn: aws.String(bad)})
			wantErr(t, err, "InvalidArn", "Invalid Role Arn: '"+bad+"'")
		}
		createSM(t, c, uniq("role"), passDefinition("r"), func(in *sfn.CreateStateMachineInput) {
			in.RoleArn = aws.String("arn:aws-us-gov:iam::123456789012:role/service-role/path/my-role")
		})
	})

	t.Run("ISO partitions", func(t *testing.T) {
		for reg, partition := range map[string]string{"us-iso-east-1": "aws-iso", "us-isob-east-1": "aws-iso-b", "eu-isoe-west-1": "aws-iso-e", "us-isof-south-1": "aws-iso-f"} {
			got := aws.ToString(createSM(t, client(reg), uniq("iso"), passDefinition("i")).StateMachineArn)
			if !strings.HasPrefix(got, "arn:"+partition+":states:"+reg+":") {
				t.Fatalf("%s: ARN %s", reg, got)
			}
		}
	})
}
