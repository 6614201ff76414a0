#!/usr/bin/env python3
"""Regenerates corpus_*.json from the AWS-recorded conformance corpus.

usage: python3 extract_corpus.py /path/to/aws-recorded.jsonl

corpus_rejected.json: definitions AWS refused, with AWS's InvalidDefinition message
    (CreateStateMachine, or TestState on a whole machine / on one state, which AWS names
    "StateName") or ValidateStateMachineDefinition diagnostics.
corpus_accepted.json: every definition AWS accepted in CreateStateMachine/UpdateStateMachine
    (or in TestState on a whole machine).
corpus_accepted_states.json: single state definitions AWS accepted in TestState.
"""
import json
import sys

PREFIX = "An error occurred (InvalidDefinition) when calling the CreateStateMachine operation: "

rejected, accepted, states, seen = [], [], [], set()
for line in open(sys.argv[1]):
    case = json.loads(line)
    short = case["id"].split("::")[-1]
    exp = case["expected"]
    for call in case["calls"]:
        d = call["args"].get("definition")
        if not isinstance(d, str):
            continue
        op = call["op"]
        if op == "ValidateStateMachineDefinition":
            resp = exp["validation_response"]
            rejected.append({"id": short, "kind": "validate", "definition": d,
                             "result": resp["result"], "diagnostics": resp["diagnostics"]})
        elif op in ("CreateStateMachine", "UpdateStateMachine") and not call.get("expect_error"):
            if d not in seen:
                seen.add(d)
                accepted.append({"id": short, "definition": d})
        elif op == "CreateStateMachine" and "exception" in exp:
            msg = exp["exception"]["exception_value"]
            assert msg.startswith(PREFIX)
            rejected.append({"id": short, "kind": "create", "definition": d, "message": msg[len(PREFIX):]})
        elif op == "CreateStateMachine" and "invalid_definition_1" in exp:
            rejected.append({"id": short, "kind": "create", "definition": d,
                             "message": exp["invalid_definition_1"]["message"]})
        elif op == "TestState" and not call.get("expect_error"):
            parsed = json.loads(d)
            if "StartAt" in parsed:
                if d not in seen:
                    seen.add(d)
                    accepted.append({"id": short, "definition": d})
            else:
                states.append({"id": short, "definition": d})
        elif op == "TestState" and "validation_exception" in exp:
            msg = exp["validation_exception"]["message"]
            if not msg.startswith("Invalid State Machine Definition"):
                continue
            if "StartAt" not in json.loads(d):
                d = json.dumps({"StartAt": "StateName", "States": {"StateName": json.loads(d)}})
            rejected.append({"id": short, "kind": "create", "definition": d, "message": msg})

json.dump(rejected, open("corpus_rejected.json", "w"), indent=1)
json.dump(accepted, open("corpus_accepted.json", "w"), indent=1)
json.dump(states, open("corpus_accepted_states.json", "w"), indent=1)
print(len(rejected), "rejected,", len(accepted), "accepted,", len(states), "accepted states")
