package actors

import (
	"context"
	"crypto/rand"

	"github.com/cockroachdb/errors"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfnd/sfnd/actors/tasktoken"
	"github.com/sfnd/sfnd/events/jsstore"
)

// Task tokens (package tasktoken): opaque, authenticated and deterministic, naming an
// execution and the event that scheduled the task. Their secret is generated once per
// deployment and kept in the KV bucket KeyBucket, so every node and every restart
// issues and reads alike; only sfnd can read that bucket (a listening NATS requires
// sfnd's credentials). Anyone holding a token can route its result to the execution;
// a forged, damaged or foreign token is refused with InvalidToken.

// KeyBucket is the KV bucket holding sfnd's secrets.
const KeyBucket = "sfn_keys"

const taskTokenKey = "task-token-hmac" // the secret's key (named for version 1's HMAC)

// ErrInvalidToken marks a task token that is malformed or not issued by this
// deployment.
var ErrInvalidToken = tasktoken.ErrInvalid

// TaskRef is what a task token names.
type TaskRef = tasktoken.Ref

// TaskTokens issues and reads task tokens.
type TaskTokens = tasktoken.Tokens

// NewTaskTokens returns the tokens of a deployment secret.
func NewTaskTokens(key []byte) *TaskTokens { return tasktoken.New(key) }

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
