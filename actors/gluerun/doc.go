// Package gluerun is the pure decider of AWS Glue workflow runs, beside actors/asl:
// Apply folds a run's events into its state, Decide turns a trigger (start, an
// action's progress, stop, run properties) into the events to append and the effects
// to carry out after the append (start a job run, start a crawl, stop them). No NATS,
// protoactor, clock or randomness inside: time and ids come in with the trigger and
// are recorded in the events, so a replay re-decides identically.
package gluerun
