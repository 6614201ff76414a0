// Package integrations holds the service integrations of Task states: one file per
// service (lambda.go, http.go, states.go, ...), each implementing the engine's
// actors.Integration interface (or actors.JobIntegration for calls that start a job
// which ends later). The engine calls them after the TaskScheduled decision is stored;
// their outcomes come back to the execution as task results. cmd/sfnd/app registers
// them by resource type ("lambda", "http", "states", ...).
//
// An integration may touch the network and the engine's public face (actors.Engine),
// never the decider's state: everything it learns reaches the execution as a recorded
// trigger.
package integrations
