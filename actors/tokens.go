package actors

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"

	"github.com/cockroachdb/errors"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfnd/sfnd/events/jsstore"
)

// Task tokens.
//
// A task token names one task of one execution: the execution ARN and the id of the
// event that scheduled the task (ActivityScheduled / TaskScheduled). A retry schedules
// the task again under a new event id, so the scheduled event id also tells attempts
// apart. The token is
//
//	base64url( version | uvarint(scheduled) | uvarint(len(arn)) | arn | mac )
//
// where mac is the first 16 bytes of HMAC-SHA256 over everything before it, keyed with
// a secret generated once per deployment and kept in the KV bucket KeyBucket, so every
// node and every restart signs and verifies alike. A token is deterministic: the same
// task always gets the same token, so a replayed decision ($$.Task.Token in
// Parameters) reproduces the recorded event. Anyone holding the token can route its
// result straight to the execution's command subject; a forged or damaged token fails
// the MAC and is refused with InvalidToken.

// KeyBucket is the KV bucket holding sfnd's secrets.
const KeyBucket = "sfn_keys"

const (
	taskTokenKey     = "task-token-hmac"
	taskTokenVersion = 1
	taskTokenMACLen  = 16
)

// ErrInvalidToken marks a task token that is malformed or not signed by this
// deployment.
var ErrInvalidToken = errors.New("invalid task token")

// TaskRef is what a task token names.
type TaskRef struct {
	ExecARN          string
	ScheduledEventID int64
}

// TaskTokens signs and verifies task tokens.
type TaskTokens struct {
	key []byte
}

// NewTaskTokens returns a signer using key (at least 32 bytes recommended).
func NewTaskTokens(key []byte) *TaskTokens { return &TaskTokens{key: append([]byte(nil), key...)} }

// LoadTaskTokens reads the deployment's token key from the KV bucket KeyBucket,
// generating and storing it on first use (the first writer wins a concurrent start).
func LoadTaskTokens(ctx context.Context, js jetstream.JetStream, replicas int) (*TaskTokens, error) {
	if replicas <= 0 {
		replicas = 1
	}
	kv, err := jsstore.EnsureKeyValue(ctx, js, jetstream.KeyValueConfig{
		Bucket: KeyBucket, Storage: jetstream.FileStorage, Replicas: replicas, History: 1,
		Description: "sfnd secrets (task token signing key)",
	})
	if err != nil {
		return nil, errors.Wrap(err, "open key bucket")
	}
	for range 3 {
		e, err := kv.Get(ctx, taskTokenKey)
		if err == nil {
			if len(e.Value()) < 32 {
				return nil, errors.Newf("task token key in %s is too short", KeyBucket)
			}
			return NewTaskTokens(e.Value()), nil
		}
		if !errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil, errors.Wrap(err, "read task token key")
		}
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, errors.Wrap(err, "generate task token key")
		}
		if _, err := kv.Create(ctx, taskTokenKey, key); err == nil {
			return NewTaskTokens(key), nil
		} else if !errors.Is(err, jetstream.ErrKeyExists) {
			return nil, errors.Wrap(err, "store task token key")
		}
		// Another node stored its key first: read that one.
	}
	return nil, errors.New("could not agree on a task token key")
}

// Token returns the token of the task scheduled by event scheduled of execution
// execARN.
func (t *TaskTokens) Token(execARN string, scheduled int64) string {
	buf := make([]byte, 0, 1+2*binary.MaxVarintLen64+len(execARN)+taskTokenMACLen)
	buf = append(buf, taskTokenVersion)
	buf = binary.AppendUvarint(buf, uint64(scheduled))
	buf = binary.AppendUvarint(buf, uint64(len(execARN)))
	buf = append(buf, execARN...)
	buf = append(buf, t.mac(buf)...)
	return base64.RawURLEncoding.EncodeToString(buf)
}

// Parse verifies a token and returns what it names, or an error marked
// ErrInvalidToken.
func (t *TaskTokens) Parse(token string) (TaskRef, error) {
	invalid := func(why string) (TaskRef, error) {
		return TaskRef{}, errors.Mark(errors.Newf("task token: %s", why), ErrInvalidToken)
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(b) < 1+taskTokenMACLen {
		return invalid("malformed")
	}
	body, sum := b[:len(b)-taskTokenMACLen], b[len(b)-taskTokenMACLen:]
	if !hmac.Equal(sum, t.mac(body)) {
		return invalid("bad signature")
	}
	if body[0] != taskTokenVersion {
		return invalid("unknown version")
	}
	rest := body[1:]
	sched, n := binary.Uvarint(rest)
	if n <= 0 || sched == 0 {
		return invalid("bad task id")
	}
	rest = rest[n:]
	l, n := binary.Uvarint(rest)
	if n <= 0 || uint64(len(rest)-n) != l {
		return invalid("bad execution")
	}
	return TaskRef{ExecARN: string(rest[n:]), ScheduledEventID: int64(sched)}, nil
}

func (t *TaskTokens) mac(b []byte) []byte {
	h := hmac.New(sha256.New, t.key)
	h.Write(b)
	return h.Sum(nil)[:taskTokenMACLen]
}
