package console_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/sfnd/sfnd/test/testutil"
)

const (
	consoleKey    = "AKIDCONSOLE"
	consoleSecret = "console-secret/with+chars"
)

// verifySigV4 recomputes a request's Signature Version 4 with aws-sdk-go-v2's signer
// and the expected key, from the headers the request says it signed.
func verifySigV4(r *http.Request, body []byte) (bool, string) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return false, "Missing Authentication Token"
	}
	_, cred, _ := strings.Cut(auth, "Credential=")
	cred, _, _ = strings.Cut(cred, ",")
	scope := strings.Split(cred, "/")
	_, signed, _ := strings.Cut(auth, "SignedHeaders=")
	signed, _, _ = strings.Cut(signed, ",")
	if len(scope) != 5 || scope[0] != consoleKey {
		return false, "The security token included in the request is invalid."
	}
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return false, "bad X-Amz-Date"
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+r.Host+"/", bytes.NewReader(body))
	req.ContentLength = 0 // the browser does not sign content-length
	req.Host = r.Host
	for _, h := range strings.Split(signed, ";") {
		if h != "host" {
			req.Header.Set(h, r.Header.Get(h))
		}
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: consoleKey, SecretAccessKey: consoleSecret}, req, hex.EncodeToString(sum[:]), scope[3], scope[2], at); err != nil {
		return false, err.Error()
	}
	if got := req.Header.Get("Authorization"); got != auth {
		return false, "The request signature we calculated does not match the signature you provided."
	}
	return true, ""
}

// TestConsoleSignsItsRequests puts an edge that demands SigV4 with one key in front
// of sfnd (as --credentials does): the console asks for the key when a request is
// refused, then signs every call in the browser, and the signatures verify against
// aws-sdk-go-v2's signer. A wrong secret is refused and the console asks again.
func TestConsoleSignsItsRequests(t *testing.T) {
	e := start(t)
	testutil.CreateStateMachine(t, e.c, "signed-flow", `{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`)
	target, _ := url.Parse(e.url)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var good, refused atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			if ok, why := verifySigV4(r, body); !ok {
				refused.Add(1)
				w.Header().Set("Content-Type", "application/x-amz-json-1.0")
				w.WriteHeader(http.StatusForbidden)
				_, _ = io.WriteString(w, `{"__type":"InvalidSignatureException","message":"`+why+`"}`)
				return
			}
			good.Add(1)
		}
		proxy.ServeHTTP(w, r)
	}))
	defer srv.Close()

	p := newPage(t, srv.URL)
	p.open("/")
	p.waitJS(10*time.Second, `document.querySelector('#creds-form')`)
	if refused.Load() == 0 || good.Load() != 0 {
		t.Fatalf("before credentials: %d refused, %d accepted", refused.Load(), good.Load())
	}
	p.typeInto("#creds-akid", consoleKey)
	p.typeInto("#creds-secret", consoleSecret)
	p.click("#creds-save")
	p.waitJS(10*time.Second, `!document.querySelector('#creds-form') && document.querySelectorAll('#sm-table tbody tr').length === 1`)
	p.click(`#sm-table a`)
	p.waitJS(10*time.Second, `document.querySelector('#start-open')`)
	if good.Load() < 3 {
		t.Fatalf("%d signed requests accepted", good.Load())
	}
	// Unless the user ticks "Remember", the key lives in this tab's sessionStorage only.
	if eval[bool](p, `localStorage.length > 0`) {
		t.Error("credentials were remembered in localStorage without asking")
	}
	// A wrong secret is refused, and the console asks again.
	eval[bool](p, `(() => { sessionStorage.setItem('sfnd.console.credentials', JSON.stringify({accessKeyId: '`+consoleKey+`', secretAccessKey: 'wrong', region: 'us-east-1'})); return true })()`)
	before := refused.Load()
	p.open("/")
	p.waitJS(10*time.Second, `document.querySelector('#creds-form') && document.querySelector('#creds-form').innerText.includes('does not match')`)
	if refused.Load() == before {
		t.Fatal("the wrong secret was not refused")
	}
}
