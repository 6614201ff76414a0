package e2e

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/jsstore"
	"github.com/sfnd/sfnd/projections"
)

const region = "us-east-1"

func createSM(t *testing.T, c *sfn.Client, name, def string, mods ...func(*sfn.CreateStateMachineInput)) *sfn.CreateStateMachineOutput {
	t.Helper()
	in := &sfn.CreateStateMachineInput{Name: aws.String(name), Definition: aws.String(def), RoleArn: aws.String(roleArn)}
	for _, m := range mods {
		m(in)
	}
	out, err := c.CreateStateMachine(ctx(t), in)
	ok(t, err)
	return out
}

func tags(kv ...string) []types.Tag {
	var out []types.Tag
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	return out
}

func tagMap(ts []types.Tag) string {
	var parts []string
	for _, t := range ts {
		parts = append(parts, aws.ToString(t.Key)+"="+aws.ToString(t.Value))
	}
	return strings.Join(parts, ",")
}

func listTags(t *testing.T, c *sfn.Client, arn string) string {
	t.Helper()
	out, err := c.ListTagsForResource(ctx(t), &sfn.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	ok(t, err)
	if out.Tags == nil {
		t.Fatal("tags missing from ListTagsForResource (want [] at least)")
	}
	return tagMap(out.Tags)
}

func recent(t *testing.T, what string, ts *time.Time) {
	t.Helper()
	if ts == nil {
		t.Fatalf("%s missing", what)
	}
	if d := time.Since(*ts); d < -time.Second || d > time.Minute {
		t.Fatalf("%s %v is not now", what, ts)
	}
}

// lastEvent is the newest control-plane event of a resource in JetStream.
func lastEvent(t *testing.T, arn string) (events.ResourceEvent, uint64) {
	t.Helper()
	ev, seq, err := node.Store.LastResource(ctx(t), arn)
	ok(t, err)
	return ev, seq
}

// inBucket reports whether a read-model bucket holds the resource.
func inBucket(t *testing.T, bucket, arn string) bool {
	t.Helper()
	kv, err := node.Store.JS.KeyValue(ctx(t), bucket)
	ok(t, err)
	_, err = kv.Get(ctx(t), jsstore.Token(arn))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return false
	}
	ok(t, err)
	return true
}

func TestStateMachineLifecycle(t *testing.T) {
	c := client(region)
	name := uniq("sm")
	def := passDefinition("one")
	created := createSM(t, c, name, def, func(in *sfn.CreateStateMachineInput) { in.Tags = tags("team", "a", "env", "dev") })
	if got := aws.ToString(created.StateMachineArn); got != smARN(region, name) {
		t.Fatalf("ARN %s, want %s", got, smARN(region, name))
	}
	recent(t, "creationDate", created.CreationDate)
	if id, ok := awsmiddleware.GetRequestIDMetadata(created.ResultMetadata); !ok || id == "" {
		t.Fatal("no x-amzn-RequestId on a success")
	}
	if ev, _ := lastEvent(t, smARN(region, name)); ev.Kind != events.StateMachineCreated {
		t.Fatalf("last event %s, want StateMachineCreated", ev.Kind)
	}
	if !inBucket(t, projections.StateMachineBucket, smARN(region, name)) {
		t.Fatal("created state machine is not in its read model")
	}

	d, err := c.DescribeStateMachine(ctx(t), &sfn.DescribeStateMachineInput{StateMachineArn: created.StateMachineArn})
	ok(t, err)
	if aws.ToString(d.Name) != name || aws.ToString(d.Definition) != def || aws.ToString(d.RoleArn) != roleArn ||
		d.Type != types.StateMachineTypeStandard || d.Status != types.StateMachineStatusActive ||
		aws.ToString(d.StateMachineArn) != smARN(region, name) || d.RevisionId != nil {
		t.Fatalf("describe: %+v", d)
	}
	if !d.CreationDate.Equal(created.CreationDate.Truncate(time.Millisecond)) && !d.CreationDate.Equal(*created.CreationDate) {
		t.Fatalf("describe creationDate %v, create said %v", d.CreationDate, created.CreationDate)
	}
	if d.LoggingConfiguration == nil || d.LoggingConfiguration.Level != types.LogLevelOff || d.LoggingConfiguration.IncludeExecutionData {
		t.Fatalf("loggingConfiguration %+v, want level OFF", d.LoggingConfiguration)
	}
	if d.TracingConfiguration == nil || d.TracingConfiguration.Enabled {
		t.Fatalf("tracingConfiguration %+v, want disabled", d.TracingConfiguration)
	}
	if got := listTags(t, c, smARN(region, name)); got != "team=a,env=dev" {
		t.Fatalf("tags %s", got)
	}

	// Update the definition: a new revision.
	def2 := passDefinition("two")
	u1, err := c.UpdateStateMachine(ctx(t), &sfn.UpdateStateMachineInput{StateMachineArn: created.StateMachineArn, Definition: aws.String(def2)})
	ok(t, err)
	recent(t, "updateDate", u1.UpdateDate)
	if aws.ToString(u1.RevisionId) == "" {
		t.Fatal("update gave no revisionId")
	}
	if ev, _ := lastEvent(t, smARN(region, name)); ev.Kind != events.StateMachineUpdated {
		t.Fatalf("last event %s, want StateMachineUpdated", ev.Kind)
	}
	d, err = c.DescribeStateMachine(ctx(t), &sfn.DescribeStateMachineInput{StateMachineArn: created.StateMachineArn})
	ok(t, err)
	if aws.ToString(d.Definition) != def2 || aws.ToString(d.RevisionId) != aws.ToString(u1.RevisionId) || aws.ToString(d.RoleArn) != roleArn {
		t.Fatalf("after update: definition %s revision %s role %s", aws.ToString(d.Definition), aws.ToString(d.RevisionId), aws.ToString(d.RoleArn))
	}
	// The same values again: the revision stays.
	u2, err := c.UpdateStateMachine(ctx(t), &sfn.UpdateStateMachineInput{StateMachineArn: created.StateMachineArn, Definition: aws.String(def2), RoleArn: aws.String(roleArn)})
	ok(t, err)
	if aws.ToString(u2.RevisionId) != aws.ToString(u1.RevisionId) {
		t.Fatalf("unchanged update moved the revision %s -> %s", aws.ToString(u1.RevisionId), aws.ToString(u2.RevisionId))
	}
	// A new role: a new revision, the definition kept.
	role2 := "arn:aws:iam::123456789012:role/other"
	u3, err := c.UpdateStateMachine(ctx(t), &sfn.UpdateStateMachineInput{StateMachineArn: created.StateMachineArn, RoleArn: aws.String(role2)})
	ok(t, err)
	if aws.ToString(u3.RevisionId) == aws.ToString(u1.RevisionId) {
		t.Fatal("role change kept the revision")
	}
	// Logging and tracing.
	_, err = c.UpdateStateMachine(ctx(t), &sfn.UpdateStateMachineInput{StateMachineArn: created.StateMachineArn,
		TracingConfiguration: &types.TracingConfiguration{Enabled: true}})
	ok(t, err)
	d, err = c.DescribeStateMachine(ctx(t), &sfn.DescribeStateMachineInput{StateMachineArn: created.StateMachineArn})
	ok(t, err)
	if aws.ToString(d.Definition) != def2 || aws.ToString(d.RoleArn) != role2 || !d.TracingConfiguration.Enabled {
		t.Fatalf("after role/tracing update: %s %s %+v", aws.ToString(d.Definition), aws.ToString(d.RoleArn), d.TracingConfiguration)
	}
	if got := listTags(t, c, smARN(region, name)); got != "team=a,env=dev" {
		t.Fatalf("tags after updates %s", got)
	}

	// Listed, with its type.
	if item := findSM(t, c, name); item == nil || item.Type != types.StateMachineTypeStandard || item.CreationDate == nil {
		t.Fatalf("list item %+v", item)
	}

	// Delete: gone from describe, list and tags; deleting again succeeds.
	_, err = c.DeleteStateMachine(ctx(t), &sfn.DeleteStateMachineInput{StateMachineArn: created.StateMachineArn})
	ok(t, err)
	if ev, _ := lastEvent(t, smARN(region, name)); ev.Kind != events.StateMachineDeleted {
		t.Fatalf("last event %s, want StateMachineDeleted", ev.Kind)
	}
	if inBucket(t, projections.StateMachineBucket, smARN(region, name)) {
		t.Fatal("deleted state machine is still in its read model")
	}
	_, err = c.DescribeStateMachine(ctx(t), &sfn.DescribeStateMachineInput{StateMachineArn: created.StateMachineArn})
	wantErr(t, err, "StateMachineDoesNotExist", "State Machine Does Not Exist: '"+smARN(region, name)+"'")
	if findSM(t, c, name) != nil {
		t.Fatal("deleted state machine still listed")
	}
	_, err = c.ListTagsForResource(ctx(t), &sfn.ListTagsForResourceInput{ResourceArn: created.StateMachineArn})
	wantErr(t, err, "ResourceNotFound", "Resource not found: '"+smARN(region, name)+"'")
	_, err = c.UpdateStateMachine(ctx(t), &sfn.UpdateStateMachineInput{StateMachineArn: created.StateMachineArn, Definition: aws.String(def)})
	wantErr(t, err, "StateMachineDoesNotExist", "State Machine Does Not Exist: '"+smARN(region, name)+"'")
	_, err = c.DeleteStateMachine(ctx(t), &sfn.DeleteStateMachineInput{StateMachineArn: created.StateMachineArn})
	ok(t, err)

	// The name is free again, for any definition; the old tags do not come back.
	again := createSM(t, c, name, passDefinition("three"))
	if aws.ToString(again.StateMachineArn) != smARN(region, name) {
		t.Fatalf("re-created ARN %s", aws.ToString(again.StateMachineArn))
	}
	if got := listTags(t, c, smARN(region, name)); got != "" {
		t.Fatalf("re-created state machine has tags %s", got)
	}
}

// findSM pages through ListStateMachines for name.
func findSM(t *testing.T, c *sfn.Client, name string) *types.StateMachineListItem {
	t.Helper()
	p := sfn.NewListStateMachinesPaginator(c, &sfn.ListStateMachinesInput{MaxResults: 1000})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx(t))
		ok(t, err)
		for _, it := range out.StateMachines {
			if aws.ToString(it.Name) == name {
				return &it
			}
		}
	}
	return nil
}

func findActivity(t *testing.T, c *sfn.Client, name string) *types.ActivityListItem {
	t.Helper()
	p := sfn.NewListActivitiesPaginator(c, &sfn.ListActivitiesInput{MaxResults: 1000})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx(t))
		ok(t, err)
		for _, it := range out.Activities {
			if aws.ToString(it.Name) == name {
				return &it
			}
		}
	}
	return nil
}

func TestStateMachineTypeKept(t *testing.T) {
	c := client(region)
	name := uniq("express")
	createSM(t, c, name, passDefinition("x"), func(in *sfn.CreateStateMachineInput) { in.Type = types.StateMachineTypeExpress })
	d, err := c.DescribeStateMachine(ctx(t), &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(smARN(region, name))})
	ok(t, err)
	if d.Type != types.StateMachineTypeExpress {
		t.Fatalf("describe type %s, want EXPRESS", d.Type)
	}
	if it := findSM(t, c, name); it == nil || it.Type != types.StateMachineTypeExpress {
		t.Fatalf("list item %+v, want EXPRESS", it)
	}
	// An update keeps the type.
	_, err = c.UpdateStateMachine(ctx(t), &sfn.UpdateStateMachineInput{StateMachineArn: d.StateMachineArn, Definition: aws.String(passDefinition("y"))})
	ok(t, err)
	d, err = c.DescribeStateMachine(ctx(t), &sfn.DescribeStateMachineInput{StateMachineArn: d.StateMachineArn})
	ok(t, err)
	if d.Type != types.StateMachineTypeExpress {
		t.Fatalf("type after update %s", d.Type)
	}
	// A type not in the enum.
	_, err = c.CreateStateMachine(ctx(t), &sfn.CreateStateMachineInput{Name: aws.String(uniq("bad-type")),
		Definition: aws.String(passDefinition("x")), RoleArn: aws.String(roleArn), Type: "FAST"})
	wantErr(t, err, "ValidationException",
		"1 validation error detected: Value 'FAST' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]")
}

func TestCreateStateMachineIdempotent(t *testing.T) {
	c := client(region)
	name := uniq("idem")
	def := passDefinition("same")
	first := createSM(t, c, name, def, func(in *sfn.CreateStateMachineInput) { in.Tags = tags("k", "v") })
	_, seqBefore := lastEvent(t, smARN(region, name))

	// Same name and definition; a different role and tags are ignored, as on AWS.
	second := createSM(t, c, name, def, func(in *sfn.CreateStateMachineInput) {
		in.RoleArn = aws.String("arn:aws:iam::123456789012:role/another")
		in.Tags = tags("other", "tag")
	})
	if aws.ToString(second.StateMachineArn) != aws.ToString(first.StateMachineArn) || !second.CreationDate.Equal(*first.CreationDate) {
		t.Fatalf("repeat answered %v %v, first %v %v", aws.ToString(second.StateMachineArn), second.CreationDate,
			aws.ToString(first.StateMachineArn), first.CreationDate)
	}
	if _, seqAfter := lastEvent(t, smARN(region, name)); seqAfter != seqBefore {
		t.Fatal("an idempotent repeat appended an event")
	}
	d, err := c.DescribeStateMachine(ctx(t), &sfn.DescribeStateMachineInput{StateMachineArn: first.StateMachineArn})
	ok(t, err)
	if aws.ToString(d.RoleArn) != roleArn {
		t.Fatalf("repeat changed the role to %s", aws.ToString(d.RoleArn))
	}
	if got := listTags(t, c, smARN(region, name)); got != "k=v" {
		t.Fatalf("repeat changed the tags to %s", got)
	}

	exists := "State Machine Already Exists: '" + smARN(region, name) + "'"
	for what, mod := range map[string]func(*sfn.CreateStateMachineInput){
		"definition": func(in *sfn.CreateStateMachineInput) { in.Definition = aws.String(passDefinition("different")) },
		"type":       func(in *sfn.CreateStateMachineInput) { in.Type = types.StateMachineTypeExpress },
		"tracing": func(in *sfn.CreateStateMachineInput) {
			in.TracingConfiguration = &types.TracingConfiguration{Enabled: true}
		},
	} {
		in := &sfn.CreateStateMachineInput{Name: aws.String(name), Definition: aws.String(def), RoleArn: aws.String(roleArn)}
		mod(in)
		_, err := c.CreateStateMachine(ctx(t), in)
		if err == nil {
			t.Fatalf("different %s: created", what)
		}
		wantErr(t, err, "StateMachineAlreadyExists", exists)
	}
	d2, err := c.DescribeStateMachine(ctx(t), &sfn.DescribeStateMachineInput{StateMachineArn: first.StateMachineArn})
	ok(t, err)
	if aws.ToString(d2.Definition) != def || d2.Type != types.StateMachineTypeStandard || d2.TracingConfiguration.Enabled {
		t.Fatalf("a refused create changed the state machine: %+v", d2)
	}

	// Many concurrent identical creates: one state machine, one creation event, one date.
	name2 := uniq("idem-race")
	var wg sync.WaitGroup
	dates := make([]time.Time, 8)
	errs := make([]error, 8)
	for i := range dates {
		wg.Go(func() {
			out, err := c.CreateStateMachine(context.Background(), &sfn.CreateStateMachineInput{
				Name: aws.String(name2), Definition: aws.String(def), RoleArn: aws.String(roleArn)})
			errs[i] = err
			if err == nil {
				dates[i] = *out.CreationDate
				// The answer is visible at once, whoever won.
				_, errs[i] = c.DescribeStateMachine(context.Background(), &sfn.DescribeStateMachineInput{StateMachineArn: out.StateMachineArn})
			}
		})
	}
	wg.Wait()
	for i := range dates {
		ok(t, errs[i])
		if !dates[i].Equal(dates[0]) {
			t.Fatalf("concurrent creates answered different dates %v and %v", dates[0], dates[i])
		}
	}
	if ev, seq := lastEvent(t, smARN(region, name2)); ev.Kind != events.StateMachineCreated || seq == 0 {
		t.Fatalf("last event %s", ev.Kind)
	}
}

func TestActivityLifecycle(t *testing.T) {
	c := client(region)
	for _, base := range []string{"Activity1", "activity.name.v2", "activity-name_1", "アクティビティ"} {
		name := uniq(base)
		arn := actARN(region, name)
		out, err := c.CreateActivity(ctx(t), &sfn.CreateActivityInput{Name: aws.String(name), Tags: tags("a", "1")})
		ok(t, err)
		if aws.ToString(out.ActivityArn) != arn {
			t.Fatalf("ARN %s, want %s", aws.ToString(out.ActivityArn), arn)
		}
		recent(t, "creationDate", out.CreationDate)
		if ev, _ := lastEvent(t, arn); ev.Kind != events.ActivityCreated {
			t.Fatalf("last event %s", ev.Kind)
		}
		if !inBucket(t, projections.ActivityBucket, arn) {
			t.Fatal("created activity is not in its read model")
		}
		// CreateActivity is idempotent.
		again, err := c.CreateActivity(ctx(t), &sfn.CreateActivityInput{Name: aws.String(name)})
		ok(t, err)
		if aws.ToString(again.ActivityArn) != arn || !again.CreationDate.Equal(*out.CreationDate) {
			t.Fatalf("repeat answered %s %v", aws.ToString(again.ActivityArn), again.CreationDate)
		}
		d, err := c.DescribeActivity(ctx(t), &sfn.DescribeActivityInput{ActivityArn: out.ActivityArn})
		ok(t, err)
		if aws.ToString(d.Name) != name || aws.ToString(d.ActivityArn) != arn || !d.CreationDate.Equal(*out.CreationDate) {
			t.Fatalf("describe %+v", d)
		}
		if d.EncryptionConfiguration == nil || d.EncryptionConfiguration.Type != types.EncryptionTypeAwsOwnedKey {
			t.Fatalf("encryptionConfiguration %+v, want AWS_OWNED_KEY", d.EncryptionConfiguration)
		}
		if it := findActivity(t, c, name); it == nil || aws.ToString(it.ActivityArn) != arn || !it.CreationDate.Equal(*out.CreationDate) {
			t.Fatalf("list item %+v", it)
		}
		if got := listTags(t, c, arn); got != "a=1" {
			t.Fatalf("tags %s", got)
		}
		_, err = c.DeleteActivity(ctx(t), &sfn.DeleteActivityInput{ActivityArn: out.ActivityArn})
		ok(t, err)
		_, err = c.DescribeActivity(ctx(t), &sfn.DescribeActivityInput{ActivityArn: out.ActivityArn})
		wantErr(t, err, "ActivityDoesNotExist", "Activity Does Not Exist: '"+arn+"'")
		if findActivity(t, c, name) != nil {
			t.Fatal("deleted activity still listed")
		}
		_, err = c.DeleteActivity(ctx(t), &sfn.DeleteActivityInput{ActivityArn: out.ActivityArn})
		ok(t, err)
	}
}

func TestTags(t *testing.T) {
	c := client(region)
	name := uniq("tagged")
	arn := aws.ToString(createSM(t, c, name, passDefinition("t")).StateMachineArn)
	if got := listTags(t, c, arn); got != "" {
		t.Fatalf("new state machine has tags %s", got)
	}
	_, err := c.TagResource(ctx(t), &sfn.TagResourceInput{ResourceArn: aws.String(arn), Tags: tags("k1", "v1", "k2", "v2")})
	ok(t, err)
	if ev, _ := lastEvent(t, arn); ev.Kind != events.TagsAdded {
		t.Fatalf("last event %s", ev.Kind)
	}
	// Overwrite one, add one, empty value allowed; an empty tag list is a no-op.
	_, err = c.TagResource(ctx(t), &sfn.TagResourceInput{ResourceArn: aws.String(arn), Tags: tags("k1", "new", "k3", "")})
	ok(t, err)
	_, err = c.TagResource(ctx(t), &sfn.TagResourceInput{ResourceArn: aws.String(arn), Tags: []types.Tag{}})
	ok(t, err)
	if got := listTags(t, c, arn); got != "k1=new,k2=v2,k3=" {
		t.Fatalf("tags %s", got)
	}
	// Untag: duplicate and unknown keys are fine.
	_, err = c.UntagResource(ctx(t), &sfn.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"k2", "k2", "nope"}})
	ok(t, err)
	if ev, _ := lastEvent(t, arn); ev.Kind != events.TagsRemoved {
		t.Fatalf("last event %s", ev.Kind)
	}
	if got := listTags(t, c, arn); got != "k1=new,k3=" {
		t.Fatalf("tags after untag %s", got)
	}
	// Tags do not disturb the state machine.
	d, err := c.DescribeStateMachine(ctx(t), &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
	ok(t, err)
	if aws.ToString(d.Definition) != passDefinition("t") {
		t.Fatal("tagging changed the definition")
	}

	// 50 tags per resource.
	var fifty []types.Tag
	for i := range 48 {
		fifty = append(fifty, tags(fmt.Sprintf("key%02d", i), "v")...)
	}
	_, err = c.TagResource(ctx(t), &sfn.TagResourceInput{ResourceArn: aws.String(arn), Tags: fifty})
	ok(t, err) // 2 + 48 = 50
	_, err = c.TagResource(ctx(t), &sfn.TagResourceInput{ResourceArn: aws.String(arn), Tags: tags("k1", "overwrite-is-fine")})
	ok(t, err)
	_, err = c.TagResource(ctx(t), &sfn.TagResourceInput{ResourceArn: aws.String(arn), Tags: tags("one", "too-many")})
	wantErr(t, err, "TooManyTags", "Too many tags specified for resource: '"+arn+"'")
	var fiftyOne []types.Tag
	for i := range 51 {
		fiftyOne = append(fiftyOne, tags(fmt.Sprintf("key%02d", i), "v")...)
	}
	tooMany := uniq("too-many-tags")
	_, err = c.CreateStateMachine(ctx(t), &sfn.CreateStateMachineInput{Name: aws.String(tooMany), Definition: aws.String(passDefinition("t")),
		RoleArn: aws.String(roleArn), Tags: fiftyOne})
	wantErr(t, err, "TooManyTags", "Too many tags specified for resource: '"+smARN(region, tooMany)+"'")
	_, err = c.CreateActivity(ctx(t), &sfn.CreateActivityInput{Name: aws.String(tooMany), Tags: fiftyOne})
	wantErr(t, err, "TooManyTags", "Too many tags specified for resource: '"+actARN(region, tooMany)+"'")
	if findSM(t, c, tooMany) != nil || findActivity(t, c, tooMany) != nil {
		t.Fatal("a refused create left a resource")
	}

	// Key and value lengths.
	_, err = c.TagResource(ctx(t), &sfn.TagResourceInput{ResourceArn: aws.String(arn), Tags: tags(strings.Repeat("k", 129), "v")})
	wantErr(t, err, "ValidationException", "1 validation error detected: Value '"+strings.Repeat("k", 129)+
		"' at 'tags.1.member.key' failed to satisfy constraint: Member must have length less than or equal to 128")
	_, err = c.TagResource(ctx(t), &sfn.TagResourceInput{ResourceArn: aws.String(arn), Tags: tags("k", strings.Repeat("v", 257))})
	wantErr(t, err, "ValidationException", "")
	_, err = c.TagResource(ctx(t), &sfn.TagResourceInput{ResourceArn: aws.String(arn), Tags: tags(strings.Repeat("k", 128), strings.Repeat("v", 256))})
	wantErr(t, err, "TooManyTags", "") // valid lengths, but the 51st tag

	// Activities take tags too.
	act := aws.ToString(must(c.CreateActivity(ctx(t), &sfn.CreateActivityInput{Name: aws.String(uniq("tagged-act"))})).ActivityArn)
	_, err = c.TagResource(ctx(t), &sfn.TagResourceInput{ResourceArn: aws.String(act), Tags: tags("x", "y")})
	ok(t, err)
	_, err = c.UntagResource(ctx(t), &sfn.UntagResourceInput{ResourceArn: aws.String(act), TagKeys: []string{"x"}})
	ok(t, err)
	if got := listTags(t, c, act); got != "" {
		t.Fatalf("activity tags %s", got)
	}

	// Unknown resources and bad ARNs.
	missing := smARN(region, uniq("missing"))
	_, err = c.TagResource(ctx(t), &sfn.TagResourceInput{ResourceArn: aws.String(missing), Tags: tags("a", "b")})
	wantErr(t, err, "ResourceNotFound", "Resource not found: '"+missing+"'")
	_, err = c.UntagResource(ctx(t), &sfn.UntagResourceInput{ResourceArn: aws.String(missing), TagKeys: []string{"a"}})
	wantErr(t, err, "ResourceNotFound", "Resource not found: '"+missing+"'")
	_, err = c.ListTagsForResource(ctx(t), &sfn.ListTagsForResourceInput{ResourceArn: aws.String(actARN(region, uniq("missing")))})
	wantErr(t, err, "ResourceNotFound", "")
	_, err = c.TagResource(ctx(t), &sfn.TagResourceInput{ResourceArn: aws.String("not-an-arn"), Tags: tags("a", "b")})
	wantErr(t, err, "InvalidArn", "Invalid Arn: 'Invalid ARN prefix: not-an-arn'")
	_, err = c.ListTagsForResource(ctx(t), &sfn.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:states:us-east-1:123456789012:execution:sm:e")})
	wantErr(t, err, "InvalidArn", "Invalid Arn: 'Resource type not valid in this context: execution'")
	_, err = c.UntagResource(ctx(t), &sfn.UntagResourceInput{ResourceArn: aws.String("arn:aws:sqs:us-east-1:123456789012:q"), TagKeys: []string{"a"}})
	wantErr(t, err, "InvalidArn", "")
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestNames(t *testing.T) {
	c := client(region)
	for _, bad := range []string{"a b", "a\tb", "a<b", "a>b", "a{b", "a}b", "a[b", "a]b", "a?b", "a*b", `a"b`, "a#b",
		"a%b", `a\b`, "a^b", "a|b", "a~b", "a`b", "a$b", "a&b", "a,b", "a;b", "a:b", "a/b", "a\x01b", "a\x7fb", "a\u0085b"} {
		name := uniq("n") + bad
		_, err := c.CreateStateMachine(ctx(t), &sfn.CreateStateMachineInput{Name: aws.String(name), Definition: aws.String(passDefinition("n")), RoleArn: aws.String(roleArn)})
		wantErr(t, err, "InvalidName", "Invalid Name: '"+name+"'")
		_, err = c.CreateActivity(ctx(t), &sfn.CreateActivityInput{Name: aws.String(name)})
		wantErr(t, err, "InvalidName", "Invalid Name: '"+name+"'")
	}
	long := strings.Repeat("x", 70) + fmt.Sprintf("%010d", seq.Add(1)) // 80 characters
	createSM(t, c, long, passDefinition("n"))
	_, err := c.CreateActivity(ctx(t), &sfn.CreateActivityInput{Name: aws.String(long)})
	ok(t, err)
	tooLong := long + "y"
	_, err = c.CreateStateMachine(ctx(t), &sfn.CreateStateMachineInput{Name: aws.String(tooLong), Definition: aws.String(passDefinition("n")), RoleArn: aws.String(roleArn)})
	wantErr(t, err, "ValidationException", "1 validation error detected: Value '"+tooLong+"' at 'name' failed to satisfy constraint: Member must have length less than or equal to 80")
	_, err = c.CreateActivity(ctx(t), &sfn.CreateActivityInput{Name: aws.String(tooLong)})
	wantErr(t, err, "ValidationException", "1 validation error detected: Value '"+tooLong+"' at 'name' failed to satisfy constraint: Member must have length less than or equal to 80")
	_, err = c.CreateActivity(ctx(t), &sfn.CreateActivityInput{Name: aws.String("")})
	wantErr(t, err, "ValidationException", "1 validation error detected: Value '' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 1")
}

func TestErrors(t *testing.T) {
	c := client(region)
	missingSM := smARN(region, uniq("missing"))
	missingAct := actARN(region, uniq("missing"))
	_, err := c.DescribeStateMachine(ctx(t), &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(missingSM)})
	wantErr(t, err, "StateMachineDoesNotExist", "State Machine Does Not Exist: '"+missingSM+"'")
	_, err = c.DeleteStateMachine(ctx(t), &sfn.DeleteStateMachineInput{StateMachineArn: aws.String(missingSM)})
	ok(t, err) // deleting what does not exist succeeds
	_, err = c.DescribeActivity(ctx(t), &sfn.DescribeActivityInput{ActivityArn: aws.String(missingAct)})
	wantErr(t, err, "ActivityDoesNotExist", "Activity Does Not Exist: '"+missingAct+"'")
	_, err = c.DeleteActivity(ctx(t), &sfn.DeleteActivityInput{ActivityArn: aws.String(missingAct)})
	ok(t, err)

	for _, call := range []struct {
		name string
		fn   func(arn string) error
		want string // resource type in this context
	}{
		{"DescribeStateMachine", func(a string) error {
			_, err := c.DescribeStateMachine(ctx(t), &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(a)})
			return err
		}, "activity"},
		{"UpdateStateMachine", func(a string) error {
			_, err := c.UpdateStateMachine(ctx(t), &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(a), Definition: aws.String(passDefinition("x"))})
			return err
		}, "activity"},
		{"DeleteStateMachine", func(a string) error {
			_, err := c.DeleteStateMachine(ctx(t), &sfn.DeleteStateMachineInput{StateMachineArn: aws.String(a)})
			return err
		}, "activity"},
		{"DescribeActivity", func(a string) error {
			_, err := c.DescribeActivity(ctx(t), &sfn.DescribeActivityInput{ActivityArn: aws.String(a)})
			return err
		}, "stateMachine"},
		{"DeleteActivity", func(a string) error {
			_, err := c.DeleteActivity(ctx(t), &sfn.DeleteActivityInput{ActivityArn: aws.String(a)})
			return err
		}, "stateMachine"},
	} {
		t.Run(call.name, func(t *testing.T) {
			wantErr(t, call.fn("invalid_arn"), "InvalidArn", "Invalid Arn: 'Invalid ARN prefix: invalid_arn'")
			other := missingAct
			if call.want == "stateMachine" {
				other = missingSM
			}
			wantErr(t, call.fn(other), "InvalidArn", "Invalid Arn: 'Resource type not valid in this context: "+call.want+"'")
			long := "arn:aws:states:us-east-1:123456789012:stateMachine:" + strings.Repeat("x", 256)
			wantErr(t, call.fn(long), "ValidationException", "")
		})
	}

	name := uniq("errs")
	arn := aws.ToString(createSM(t, c, name, passDefinition("e")).StateMachineArn)
	// UpdateStateMachine with nothing to update.
	_, err = c.UpdateStateMachine(ctx(t), &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(arn)})
	wantErr(t, err, "MissingRequiredParameter", "")
	// Definitions that are not state machines.
	for _, def := range []string{"not json", `{"States":{}}`, `{"StartAt":"A","States":{"B":{"Type":"Pass","End":true}}}`, "[]"} {
		_, err = c.CreateStateMachine(ctx(t), &sfn.CreateStateMachineInput{Name: aws.String(uniq("baddef")), Definition: aws.String(def), RoleArn: aws.String(roleArn)})
		wantErr(t, err, "InvalidDefinition", "")
		if msg := err.Error(); !strings.Contains(msg, "Invalid State Machine Definition: '") {
			t.Fatalf("InvalidDefinition message %s", msg)
		}
		_, err = c.UpdateStateMachine(ctx(t), &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(arn), Definition: aws.String(def)})
		wantErr(t, err, "InvalidDefinition", "")
	}
	// Logging configurations.
	_, err = c.CreateStateMachine(ctx(t), &sfn.CreateStateMachineInput{Name: aws.String(uniq("badlog")), Definition: aws.String(passDefinition("e")),
		RoleArn: aws.String(roleArn), LoggingConfiguration: &types.LoggingConfiguration{Level: types.LogLevelAll}})
	wantErr(t, err, "InvalidLoggingConfiguration", "Invalid Logging Configuration: Must specify exactly one Log Destination if logging level is not OFF.")
	_, err = c.UpdateStateMachine(ctx(t), &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(arn),
		LoggingConfiguration: &types.LoggingConfiguration{Level: "LOUD"}})
	wantErr(t, err, "ValidationException", "1 validation error detected: Value 'LOUD' at 'loggingConfiguration.level' failed to satisfy constraint: Member must satisfy enum value set: [ALL, ERROR, FATAL, OFF]")
	// An empty definition is too short.
	_, err = c.CreateStateMachine(ctx(t), &sfn.CreateStateMachineInput{Name: aws.String(uniq("empty")), Definition: aws.String(""), RoleArn: aws.String(roleArn)})
	wantErr(t, err, "ValidationException", "1 validation error detected: Value '' at 'definition' failed to satisfy constraint: Member must have length greater than or equal to 1")
}

// pageAll walks every page of a list call with page size n, checking page sizes.
func pageAll[T any](t *testing.T, n int32, list func(max int32, tok *string) ([]T, *string, error)) []T {
	t.Helper()
	var all []T
	var tok *string
	for pages := 0; ; pages++ {
		items, next, err := list(n, tok)
		ok(t, err)
		limit := int(n)
		if n == 0 {
			limit = 100
		}
		if len(items) > limit {
			t.Fatalf("page of %d items with maxResults %d", len(items), n)
		}
		if next != nil && len(items) != limit {
			t.Fatalf("short page (%d of %d) with a nextToken", len(items), limit)
		}
		all = append(all, items...)
		if next == nil {
			return all
		}
		if pages > 2000 {
			t.Fatal("pagination does not end")
		}
		tok = next
	}
}

func TestPagination(t *testing.T) {
	// A region of its own: the lists hold exactly what this test creates.
	const reg = "ap-southeast-2"
	c := client(reg)
	const nAct, nSM = 105, 12
	var acts, sms []string
	for i := range nAct {
		name := fmt.Sprintf("page-act-%03d", i)
		_, err := c.CreateActivity(ctx(t), &sfn.CreateActivityInput{Name: aws.String(name)})
		ok(t, err)
		acts = append(acts, actARN(reg, name))
	}
	for i := range nSM {
		name := fmt.Sprintf("page-sm-%03d", i)
		createSM(t, c, name, passDefinition("p"))
		sms = append(sms, smARN(reg, name))
	}
	listActs := func(max int32, tok *string) ([]string, *string, error) {
		out, err := c.ListActivities(ctx(t), &sfn.ListActivitiesInput{MaxResults: max, NextToken: tok})
		if err != nil {
			return nil, nil, err
		}
		var arns []string
		for _, it := range out.Activities {
			arns = append(arns, aws.ToString(it.ActivityArn))
		}
		return arns, out.NextToken, nil
	}
	listSMs := func(max int32, tok *string) ([]string, *string, error) {
		out, err := c.ListStateMachines(ctx(t), &sfn.ListStateMachinesInput{MaxResults: max, NextToken: tok})
		if err != nil {
			return nil, nil, err
		}
		var arns []string
		for _, it := range out.StateMachines {
			arns = append(arns, aws.ToString(it.StateMachineArn))
		}
		return arns, out.NextToken, nil
	}
	for _, n := range []int32{1, 2, 7, 50, 100, 104, 105, 106, 1000, 0} {
		if got := pageAll(t, n, listActs); !slices.Equal(got, acts) {
			t.Fatalf("maxResults %d: %d activities listed, want the %d created in creation order", n, len(got), len(acts))
		}
		if got := pageAll(t, n, listSMs); !slices.Equal(got, sms) {
			t.Fatalf("maxResults %d: %v, want %v", n, got, sms)
		}
	}
	// Absent or 0 means 100.
	first, err := c.ListActivities(ctx(t), &sfn.ListActivitiesInput{})
	ok(t, err)
	if len(first.Activities) != 100 || first.NextToken == nil {
		t.Fatalf("default page: %d items, token %v", len(first.Activities), first.NextToken)
	}
	// A nextToken may come with a different page size.
	rest, err := c.ListActivities(ctx(t), &sfn.ListActivitiesInput{NextToken: first.NextToken, MaxResults: 3})
	ok(t, err)
	if len(rest.Activities) != 3 || aws.ToString(rest.Activities[0].ActivityArn) != acts[100] || rest.NextToken == nil {
		t.Fatalf("second page %+v", rest)
	}
	// Deleting the item a token points after does not break the walk.
	p1, err := c.ListStateMachines(ctx(t), &sfn.ListStateMachinesInput{MaxResults: 4})
	ok(t, err)
	_, err = c.DeleteStateMachine(ctx(t), &sfn.DeleteStateMachineInput{StateMachineArn: p1.StateMachines[3].StateMachineArn})
	ok(t, err)
	p2, err := c.ListStateMachines(ctx(t), &sfn.ListStateMachinesInput{MaxResults: 4, NextToken: p1.NextToken})
	ok(t, err)
	if aws.ToString(p2.StateMachines[0].StateMachineArn) != sms[4] {
		t.Fatalf("after deleting the cursor's item the next page starts at %s, want %s", aws.ToString(p2.StateMachines[0].StateMachineArn), sms[4])
	}

	// Out of range, garbage and foreign tokens.
	_, err = c.ListActivities(ctx(t), &sfn.ListActivitiesInput{MaxResults: 1001})
	wantErr(t, err, "ValidationException", "1 validation error detected: Value '1001' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000")
	_, err = c.ListStateMachines(ctx(t), &sfn.ListStateMachinesInput{MaxResults: 1001})
	wantErr(t, err, "ValidationException", "1 validation error detected: Value '1001' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000")
	_, err = c.ListStateMachines(ctx(t), &sfn.ListStateMachinesInput{MaxResults: -1})
	wantErr(t, err, "ValidationException", "1 validation error detected: Value '-1' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 0")
	for _, tok := range []string{"garbage", "InvalidToken", "eyJvIjoiTGlzdFN0YXRlTWFjaGluZXMi"} {
		_, err = c.ListActivities(ctx(t), &sfn.ListActivitiesInput{NextToken: aws.String(tok)})
		wantErr(t, err, "InvalidToken", "Invalid Token: 'Invalid token'")
		_, err = c.ListStateMachines(ctx(t), &sfn.ListStateMachinesInput{NextToken: aws.String(tok)})
		wantErr(t, err, "InvalidToken", "Invalid Token: 'Invalid token'")
	}
	_, err = c.ListStateMachines(ctx(t), &sfn.ListStateMachinesInput{NextToken: first.NextToken}) // ListActivities' token
	wantErr(t, err, "InvalidToken", "Invalid Token: 'Invalid token'")
	_, err = c.ListActivities(ctx(t), &sfn.ListActivitiesInput{NextToken: aws.String(strings.Repeat("t", 1025))})
	wantErr(t, err, "ValidationException", "")

	// The SDK's own paginator walks them too.
	var n int
	pg := sfn.NewListActivitiesPaginator(c, &sfn.ListActivitiesInput{MaxResults: 10})
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx(t))
		ok(t, err)
		n += len(out.Activities)
	}
	if n != nAct {
		t.Fatalf("paginator saw %d activities, want %d", n, nAct)
	}
}

func TestRegionFromCredentialScope(t *testing.T) {
	for _, c := range []struct{ region, partition string }{
		{"eu-west-1", "aws"}, {"cn-north-1", "aws-cn"}, {"us-gov-west-1", "aws-us-gov"},
	} {
		cl := client(c.region)
		name := uniq("regional")
		prefix := "arn:" + c.partition + ":states:" + c.region + ":" + account + ":"
		sm := createSM(t, cl, name, passDefinition("r"))
		if got := aws.ToString(sm.StateMachineArn); got != prefix+"stateMachine:"+name {
			t.Fatalf("client for %s got ARN %s", c.region, got)
		}
		act, err := cl.CreateActivity(ctx(t), &sfn.CreateActivityInput{Name: aws.String(name)})
		ok(t, err)
		if got := aws.ToString(act.ActivityArn); got != prefix+"activity:"+name {
			t.Fatalf("client for %s got ARN %s", c.region, got)
		}
		d, err := cl.DescribeStateMachine(ctx(t), &sfn.DescribeStateMachineInput{StateMachineArn: sm.StateMachineArn})
		ok(t, err)
		if aws.ToString(d.StateMachineArn) != aws.ToString(sm.StateMachineArn) {
			t.Fatalf("describe ARN %s", aws.ToString(d.StateMachineArn))
		}
		// Listed in its own region only.
		if findSM(t, cl, name) == nil || findActivity(t, cl, name) == nil {
			t.Fatalf("not listed in %s", c.region)
		}
		if findSM(t, client(region), name) != nil || findActivity(t, client(region), name) != nil {
			t.Fatalf("%s resources listed in %s", c.region, region)
		}
	}
}

func TestReadYourWrites(t *testing.T) {
	const reg = "sa-east-1"
	c := client(reg)
	const workers, rounds = 4, 15
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			errs <- readYourWrites(c, reg, w, rounds)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// readYourWrites writes and at once reads back, rounds times: every answer must
// reflect the write just acknowledged.
func readYourWrites(c *sfn.Client, reg string, w, rounds int) error {
	bg := context.Background()
	for i := range rounds {
		name := fmt.Sprintf("ryw-%d-%d", w, i)
		arn := smARN(reg, name)
		if _, err := c.CreateStateMachine(bg, &sfn.CreateStateMachineInput{Name: aws.String(name), Definition: aws.String(passDefinition("0")), RoleArn: aws.String(roleArn)}); err != nil {
			return err
		}
		if _, err := c.DescribeStateMachine(bg, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)}); err != nil {
			return fmt.Errorf("describe right after create: %w", err)
		}
		list, err := c.ListStateMachines(bg, &sfn.ListStateMachinesInput{MaxResults: 1000})
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(list.StateMachines, func(it types.StateMachineListItem) bool { return aws.ToString(it.StateMachineArn) == arn }) {
			return fmt.Errorf("%s not listed right after create", name)
		}
		if _, err := c.UpdateStateMachine(bg, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(arn), Definition: aws.String(passDefinition("1"))}); err != nil {
			return err
		}
		d, err := c.DescribeStateMachine(bg, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
		if err != nil || aws.ToString(d.Definition) != passDefinition("1") {
			return fmt.Errorf("describe right after update: %v %v", err, d)
		}
		if _, err := c.TagResource(bg, &sfn.TagResourceInput{ResourceArn: aws.String(arn), Tags: tags("round", fmt.Sprint(i))}); err != nil {
			return err
		}
		tl, err := c.ListTagsForResource(bg, &sfn.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
		if err != nil || tagMap(tl.Tags) != "round="+fmt.Sprint(i) {
			return fmt.Errorf("tags right after tagging: %v %v", err, tl)
		}
		if _, err := c.CreateActivity(bg, &sfn.CreateActivityInput{Name: aws.String(name)}); err != nil {
			return err
		}
		if _, err := c.DescribeActivity(bg, &sfn.DescribeActivityInput{ActivityArn: aws.String(actARN(reg, name))}); err != nil {
			return fmt.Errorf("describe activity right after create: %w", err)
		}
		if _, err := c.DeleteStateMachine(bg, &sfn.DeleteStateMachineInput{StateMachineArn: aws.String(arn)}); err != nil {
			return err
		}
		if _, err := c.DescribeStateMachine(bg, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)}); err == nil {
			return fmt.Errorf("%s still described right after delete", name)
		}
		if _, err := c.DeleteActivity(bg, &sfn.DeleteActivityInput{ActivityArn: aws.String(actARN(reg, name))}); err != nil {
			return err
		}
		if _, err := c.DescribeActivity(bg, &sfn.DescribeActivityInput{ActivityArn: aws.String(actARN(reg, name))}); err == nil {
			return fmt.Errorf("activity %s still described right after delete", name)
		}
	}
	return nil
}

func TestBadInputChangesNothing(t *testing.T) {
	c := client(region)
	name := uniq("stable")
	arn := smARN(region, name)
	createSM(t, c, name, passDefinition("s"), func(in *sfn.CreateStateMachineInput) { in.Tags = tags("k", "v") })
	act := aws.ToString(must(c.CreateActivity(ctx(t), &sfn.CreateActivityInput{Name: aws.String(name), Tags: tags("k", "v")})).ActivityArn)
	before, _ := c.DescribeStateMachine(ctx(t), &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
	_, smSeq := lastEvent(t, arn)
	_, actSeq := lastEvent(t, act)

	bad := []func() error{
		func() error {
			_, err := c.CreateStateMachine(ctx(t), &sfn.CreateStateMachineInput{Name: aws.String(name), Definition: aws.String(passDefinition("other")), RoleArn: aws.String(roleArn)})
			return err
		},
		func() error {
			_, err := c.UpdateStateMachine(ctx(t), &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(arn), Definition: aws.String("{")})
			return err
		},
		func() error {
			_, err := c.UpdateStateMachine(ctx(t), &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(arn), Definition: aws.String(passDefinition("x")),
				LoggingConfiguration: &types.LoggingConfiguration{Level: types.LogLevelError}})
			return err
		},
		func() error {
			_, err := c.UpdateStateMachine(ctx(t), &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(arn), Definition: aws.String(passDefinition("x")),
				RoleArn: aws.String(strings.Repeat("r", 257))})
			return err
		},
		func() error {
			_, err := c.UpdateStateMachine(ctx(t), &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(arn)})
			return err
		},
		func() error {
			var many []types.Tag
			for i := range 50 {
				many = append(many, tags(fmt.Sprint("t", i), "v")...)
			}
			_, err := c.TagResource(ctx(t), &sfn.TagResourceInput{ResourceArn: aws.String(arn), Tags: many})
			return err
		},
		func() error {
			_, err := c.TagResource(ctx(t), &sfn.TagResourceInput{ResourceArn: aws.String(arn), Tags: append(tags("k", "changed"), tags("", "v")...)})
			return err
		},
		func() error {
			_, err := c.UntagResource(ctx(t), &sfn.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"k", ""}})
			return err
		},
		func() error {
			_, err := c.TagResource(ctx(t), &sfn.TagResourceInput{ResourceArn: aws.String(act), Tags: tags("k", strings.Repeat("v", 300))})
			return err
		},
		func() error {
			_, err := c.CreateActivity(ctx(t), &sfn.CreateActivityInput{Name: aws.String(name), Tags: tags("", "")})
			return err
		},
	}
	for i, call := range bad {
		if err := call(); err == nil {
			t.Fatalf("bad call %d succeeded", i)
		}
	}
	rawCalls := []struct{ target, body string }{
		{"AWSStepFunctions.UpdateStateMachine", `{"stateMachineArn":"` + arn + `","definition":5}`},
		{"AWSStepFunctions.TagResource", `{"resourceArn":"` + arn + `","tags":[{"key":"k","value":"x"}]} trailing`},
		{"AWSStepFunctions.DeleteStateMachine", `{"stateMachineArn":["` + arn + `"]}`},
		{"AWSStepFunctions.DeleteActivity", `{"activityArn":`},
		{"AWSStepFunctions.DeleteEverything", `{"stateMachineArn":"` + arn + `"}`},
	}
	for _, rc := range rawCalls {
		if r := raw(t, rc.target, rc.body); r.Status != 400 {
			t.Fatalf("%s %s answered %d", rc.target, rc.body, r.Status)
		}
	}

	if _, seq := lastEvent(t, arn); seq != smSeq {
		t.Fatalf("refused calls appended to the state machine (sequence %d -> %d)", smSeq, seq)
	}
	if _, seq := lastEvent(t, act); seq != actSeq {
		t.Fatalf("refused calls appended to the activity (sequence %d -> %d)", actSeq, seq)
	}
	after, err := c.DescribeStateMachine(ctx(t), &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
	ok(t, err)
	if aws.ToString(after.Definition) != aws.ToString(before.Definition) || aws.ToString(after.RoleArn) != aws.ToString(before.RoleArn) ||
		after.LoggingConfiguration.Level != before.LoggingConfiguration.Level || after.RevisionId != nil {
		t.Fatalf("state machine changed: %+v", after)
	}
	if got := listTags(t, c, arn); got != "k=v" {
		t.Fatalf("state machine tags %s", got)
	}
	if got := listTags(t, c, act); got != "k=v" {
		t.Fatalf("activity tags %s", got)
	}
}

func TestRawProtocol(t *testing.T) {
	// Unknown targets.
	for _, target := range []string{"AWSStepFunctions.NoSuchOperation", "AWSGlue.CreateDatabase", "CreateStateMachine", ""} {
		r := raw(t, target, `{}`)
		wantRawErr(t, r, "UnknownOperationException", "sfnd does not serve")
		// The message names the operation, so an SDK's error says what was refused.
		if op := target[strings.LastIndex(target, ".")+1:]; !strings.Contains(r.Body["message"].(string), op) {
			t.Fatalf("message %q does not name %q", r.Body["message"], op)
		}
	}
	// Malformed JSON and wrong types.
	for _, body := range []string{`{`, `{"name": "x",}`, `not json`, `{"name":"a"} {"name":"b"}`, `[]`, `"str"`, `{"name": 5}`,
		`{"name": {"nested": true}}`, `{"name":"x","tags":{"k":"v"}}`, `{"name":"x","tags":[{"key":1}]}`} {
		wantRawErr(t, raw(t, "AWSStepFunctions.CreateActivity", body), "SerializationException", "")
	}
	wantRawErr(t, raw(t, "AWSStepFunctions.ListStateMachines", `{"maxResults":"10"}`), "SerializationException", "")
	wantRawErr(t, raw(t, "AWSStepFunctions.ListActivities", `{"maxResults":1.5}`), "SerializationException", "")
	wantRawErr(t, raw(t, "AWSStepFunctions.UpdateStateMachine", `{"stateMachineArn":"x","publish":"yes"}`), "SerializationException", "")

	// Missing required members, as the service words them.
	r := raw(t, "AWSStepFunctions.CreateStateMachine", `{}`)
	wantRawErr(t, r, "ValidationException", "3 validation errors detected: ")
	for _, m := range []string{"name", "definition", "roleArn"} {
		if !strings.Contains(r.Body["message"].(string), "Value null at '"+m+"' failed to satisfy constraint: Member must not be null") {
			t.Fatalf("message does not name %s: %s", m, r.Body["message"])
		}
	}
	for target, member := range map[string]string{
		"DescribeStateMachine": "stateMachineArn", "UpdateStateMachine": "stateMachineArn", "DeleteStateMachine": "stateMachineArn",
		"CreateActivity": "name", "DescribeActivity": "activityArn", "DeleteActivity": "activityArn",
		"ListTagsForResource": "resourceArn",
	} {
		wantRawErr(t, raw(t, "AWSStepFunctions."+target, `{}`), "ValidationException",
			"1 validation error detected: Value null at '"+member+"' failed to satisfy constraint: Member must not be null")
	}
	wantRawErr(t, raw(t, "AWSStepFunctions.TagResource", `{}`), "ValidationException", "2 validation errors detected: ")
	wantRawErr(t, raw(t, "AWSStepFunctions.UntagResource", `{"resourceArn":"`+smARN(region, "x")+`"}`), "ValidationException",
		"1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null")
	wantRawErr(t, raw(t, "AWSStepFunctions.CreateActivity", `{"name":"x","tags":[{"value":"v"}]}`), "ValidationException",
		"1 validation error detected: Value null at 'tags.1.member.key' failed to satisfy constraint: Member must not be null")
	// An empty body is an empty input.
	wantRawErr(t, raw(t, "AWSStepFunctions.DescribeActivity", ``), "ValidationException", "1 validation error detected: ")
	// An unsigned request works in the default region; unknown members are ignored.
	name := uniq("raw")
	r = raw(t, "AWSStepFunctions.CreateActivity", `{"name":"`+name+`","unknownMember":1}`)
	if r.Status != 200 || r.Body["activityArn"] != actARN(region, name) {
		t.Fatalf("unsigned create: %d %s", r.Status, r.Text)
	}
	if _, isNum := r.Body["creationDate"].(float64); !isNum {
		t.Fatalf("creationDate is not epoch seconds: %s", r.Text)
	}
	if r.Header.Get("x-amzn-RequestId") == "" || r.Header.Get("Content-Type") != "application/x-amz-json-1.0" {
		t.Fatalf("headers %v", r.Header)
	}
	// A signature's credential scope sets the region, whatever the signature.
	req, _ := newRawRequest("AWSStepFunctions.CreateActivity", `{"name":"`+name+`"}`)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20240101/ap-northeast-1/states/aws4_request, SignedHeaders=host, Signature=00")
	resp, err := httpDo(req)
	ok(t, err)
	if resp.Body["activityArn"] != actARN("ap-northeast-1", name) {
		t.Fatalf("credential scope ignored: %v", resp.Body)
	}
	// Request ids are unique.
	ids := map[string]bool{}
	for range 5 {
		id := raw(t, "AWSStepFunctions.ListActivities", `{}`).Header.Get("x-amzn-RequestId")
		if id == "" || ids[id] {
			t.Fatalf("request id %q missing or repeated", id)
		}
		ids[id] = true
	}
}

func TestConcurrentWritesToOneResource(t *testing.T) {
	c := client(region)
	name := uniq("contended")
	arn := aws.ToString(createSM(t, c, name, passDefinition("c")).StateMachineArn)
	const writers = 40 // within the 50-tag limit
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			_, errs[i] = c.TagResource(context.Background(), &sfn.TagResourceInput{ResourceArn: aws.String(arn), Tags: tags(fmt.Sprintf("w%02d", i), "x")})
		})
	}
	wg.Wait()
	for _, err := range errs {
		ok(t, err)
	}
	out, err := c.ListTagsForResource(ctx(t), &sfn.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	ok(t, err)
	if len(out.Tags) != writers {
		t.Fatalf("%d concurrent tag writes left %d tags: %s", writers, len(out.Tags), tagMap(out.Tags))
	}
	// Concurrent updates and tags interleave without losing either.
	for i := range writers {
		wg.Go(func() {
			if i%2 == 0 {
				_, errs[i] = c.UpdateStateMachine(context.Background(), &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(arn), Definition: aws.String(passDefinition(fmt.Sprint(i)))})
			} else {
				_, errs[i] = c.UntagResource(context.Background(), &sfn.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{fmt.Sprintf("w%02d", i)}})
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		ok(t, err)
	}
	out, err = c.ListTagsForResource(ctx(t), &sfn.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	ok(t, err)
	if len(out.Tags) != writers/2 {
		t.Fatalf("after concurrent untags %d tags remain: %s", len(out.Tags), tagMap(out.Tags))
	}
	d, err := c.DescribeStateMachine(ctx(t), &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
	ok(t, err)
	if aws.ToString(d.Definition) == passDefinition("c") {
		t.Fatal("no concurrent update landed")
	}
}

func TestRequestTooLarge(t *testing.T) {
	body := `{"name":"` + strings.Repeat("x", 2<<20) + `"}`
	r := raw(t, "AWSStepFunctions.CreateActivity", body)
	if r.Status != 413 || r.Body["__type"] != "RequestEntityTooLargeException" {
		t.Fatalf("oversized body: %d %s", r.Status, r.Text)
	}
}
