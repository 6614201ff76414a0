package console_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/sfnd/sfnd/api"
	"github.com/sfnd/sfnd/test/testutil"
)

// TestConsoleUnderCredentials runs the console against a node started with a
// credentials file (--credentials): its shell opens unsigned, its calls are refused
// until the user gives a key, then every call — Step Functions and the console's own
// operations signed for "states", Glue for "glue" — passes sfnd's SigV4 verifier and
// shows the signer's account only. A wrong secret is refused and the console asks again.
func TestConsoleUnderCredentials(t *testing.T) {
	chromiumPath(t)
	const key, secret = "AKIACONSOLETEAMA0001", "team-a-secret/with+chars"
	path := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(path, []byte("[team-a]\naws_access_key_id = "+key+"\naws_secret_access_key = "+secret+
		"\naws_account_id = 111111111111\n\n[team-b]\naws_access_key_id = AKIACONSOLETEAMB0001\naws_secret_access_key = b\naws_account_id = 222222222222\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	creds, err := api.LoadCredentials(path)
	if err != nil {
		t.Fatal(err)
	}
	a := testutil.Start(t, testutil.Options{Credentials: creds, WaitTimeScale: 0.01})
	ctx := context.Background()
	for _, who := range []struct{ key, secret, name string }{{key, secret, "team-a"}, {"AKIACONSOLETEAMB0001", "b", "team-b"}} {
		provider := credentials.NewStaticCredentialsProvider(who.key, who.secret, "")
		c := sfn.New(sfn.Options{Region: "us-east-1", BaseEndpoint: aws.String(a.Endpoint()), Credentials: provider})
		if _, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String(who.name + "-flow"),
			Definition: aws.String(`{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`), RoleArn: aws.String("arn:aws:iam::111111111111:role/r")}); err != nil {
			t.Fatal(err)
		}
		g := glue.New(glue.Options{Region: "us-east-1", BaseEndpoint: aws.String(a.Endpoint()), Credentials: provider})
		if _, err := g.CreateWorkflow(ctx, &glue.CreateWorkflowInput{Name: aws.String(who.name + "-wf")}); err != nil {
			t.Fatal(err)
		}
	}

	p := newPage(t, a.Endpoint())
	p.open("/")
	p.waitJS(20*time.Second, `document.querySelector('#creds-form')`)
	p.typeInto("#creds-akid", key)
	p.typeInto("#creds-secret", secret)
	p.click("#creds-save")
	p.waitJS(20*time.Second, `!document.querySelector('#creds-form') && document.querySelector('#sm-table') && document.querySelector('#sm-table').innerText.includes('team-a-flow')`)
	if eval[bool](p, `document.querySelector('#sm-table').innerText.includes('team-b-flow')`) {
		t.Fatal("the console shows team B's state machine to team A")
	}
	p.click(`#sm-table a`)
	p.waitJS(20*time.Second, `document.querySelector('#start-open')`)
	p.open("/glue/workflows")
	p.waitJS(20*time.Second, `document.querySelector('#glue-table') && document.querySelector('#glue-table').innerText.includes('team-a-wf')`)
	if eval[bool](p, `document.querySelector('#glue-table').innerText.includes('team-b-wf')`) {
		t.Fatal("the console shows team B's workflow to team A")
	}
	// A wrong secret is refused by the verifier, and the console asks again.
	eval[bool](p, `(() => { sessionStorage.setItem('sfnd.console.credentials', JSON.stringify({accessKeyId: '`+key+`', secretAccessKey: 'wrong', region: 'us-east-1'})); return true })()`)
	p.open("/")
	p.waitJS(20*time.Second, `document.querySelector('#creds-form') && document.querySelector('#creds-form').innerText.includes('does not match')`)
}
