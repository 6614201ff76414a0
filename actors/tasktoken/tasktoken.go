// Package tasktoken issues and reads task tokens: opaque strings naming one task of
// one execution, which only the deployment that issued them can read or forge.
//
// A token names the execution ARN (whose account and region the API checks against the
// caller's) and the id of the event that scheduled the task (a retry schedules the task
// again under a new id, so the id also tells attempts apart). Version 2, issued today:
//
//	base64url( 0x02 | nonce(12) | AES-256-GCM(encKey, nonce, uvarint(scheduled) | arn, aad 0x02) )
//
// The nonce is HMAC-SHA256(nonceKey, plaintext)[:12] (a synthetic IV): a token is
// deterministic — the same task always gets the same token, so replaying a decision that
// put $$.Task.Token in its Parameters reproduces the recorded event — and two different
// tasks never share a nonce. encKey and nonceKey are derived from the deployment's one
// secret with HMAC-SHA256 and distinct labels. The ARN is not readable in the token;
// a forged, damaged or foreign token fails authentication.
//
// Version 1 (issued before; still accepted and reproducible for histories that hold
// one) was readable: base64url( 0x01 | uvarint(scheduled) | uvarint(len(arn)) | arn |
// HMAC-SHA256(secret, all before)[:16] ).
package tasktoken

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"math"

	"github.com/cockroachdb/errors"
)

// ErrInvalid marks a token that is malformed or not issued by this deployment.
var ErrInvalid = errors.New("invalid task token")

// Ref is what a token names.
type Ref struct {
	ExecARN          string
	ScheduledEventID int64
}

const (
	v1, v2   = 1, 2
	v1MACLen = 16
	nonceLen = 12
)

// Tokens issues and reads the tokens of one deployment secret.
type Tokens struct {
	secret   []byte
	aead     cipher.AEAD
	nonceKey []byte
}

// New returns the tokens of a deployment secret (at least 32 bytes recommended).
func New(secret []byte) *Tokens {
	t := &Tokens{secret: append([]byte(nil), secret...)}
	block, err := aes.NewCipher(derive(secret, "sfnd task token v2 encryption"))
	if err != nil {
		panic(err) // a 32-byte key is always accepted
	}
	if t.aead, err = cipher.NewGCM(block); err != nil {
		panic(err)
	}
	t.nonceKey = derive(secret, "sfnd task token v2 nonce")
	return t
}

func derive(secret []byte, label string) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(label))
	return h.Sum(nil)
}

// Token returns the (version 2) token of the task scheduled by event scheduled of
// execution execARN.
func (t *Tokens) Token(execARN string, scheduled int64) string {
	plain := make([]byte, 0, binary.MaxVarintLen64+len(execARN))
	plain = binary.AppendUvarint(plain, uint64(scheduled))
	plain = append(plain, execARN...)
	h := hmac.New(sha256.New, t.nonceKey)
	h.Write(plain)
	nonce := h.Sum(nil)[:nonceLen]
	buf := make([]byte, 0, 1+nonceLen+len(plain)+t.aead.Overhead())
	buf = append(buf, v2)
	buf = append(buf, nonce...)
	buf = t.aead.Seal(buf, nonce, plain, []byte{v2})
	return base64.RawURLEncoding.EncodeToString(buf)
}

// TokenV1 returns the version 1 token of a task: what this deployment issued before
// version 2, for replaying histories that recorded one.
func (t *Tokens) TokenV1(execARN string, scheduled int64) string {
	buf := make([]byte, 0, 1+2*binary.MaxVarintLen64+len(execARN)+v1MACLen)
	buf = append(buf, v1)
	buf = binary.AppendUvarint(buf, uint64(scheduled))
	buf = binary.AppendUvarint(buf, uint64(len(execARN)))
	buf = append(buf, execARN...)
	buf = append(buf, t.macV1(buf)...)
	return base64.RawURLEncoding.EncodeToString(buf)
}

// Parse authenticates a token (either version) and returns what it names, or an
// error marked ErrInvalid.
func (t *Tokens) Parse(token string) (Ref, error) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(b) < 1 {
		return invalid("malformed")
	}
	switch b[0] {
	case v2:
		return t.parseV2(b)
	case v1:
		return t.parseV1(b)
	}
	return invalid("unknown version")
}

func invalid(why string) (Ref, error) {
	return Ref{}, errors.Mark(errors.Newf("task token: %s", why), ErrInvalid)
}

func (t *Tokens) parseV2(b []byte) (Ref, error) {
	if len(b) < 1+nonceLen+t.aead.Overhead()+1 {
		return invalid("malformed")
	}
	plain, err := t.aead.Open(nil, b[1:1+nonceLen], b[1+nonceLen:], []byte{v2})
	if err != nil {
		return invalid("not issued here")
	}
	sched, n := binary.Uvarint(plain)
	if n <= 0 || sched == 0 || sched > math.MaxInt64 {
		return invalid("bad task id")
	}
	return Ref{ExecARN: string(plain[n:]), ScheduledEventID: int64(sched)}, nil
}

func (t *Tokens) parseV1(b []byte) (Ref, error) {
	if len(b) < 1+v1MACLen {
		return invalid("malformed")
	}
	body, sum := b[:len(b)-v1MACLen], b[len(b)-v1MACLen:]
	if !hmac.Equal(sum, t.macV1(body)) {
		return invalid("bad signature")
	}
	rest := body[1:]
	sched, n := binary.Uvarint(rest)
	if n <= 0 || sched == 0 || sched > math.MaxInt64 {
		return invalid("bad task id")
	}
	rest = rest[n:]
	l, n := binary.Uvarint(rest)
	if n <= 0 || uint64(len(rest)-n) != l {
		return invalid("bad execution")
	}
	return Ref{ExecARN: string(rest[n:]), ScheduledEventID: int64(sched)}, nil
}

func (t *Tokens) macV1(b []byte) []byte {
	h := hmac.New(sha256.New, t.secret)
	h.Write(b)
	return h.Sum(nil)[:v1MACLen]
}
