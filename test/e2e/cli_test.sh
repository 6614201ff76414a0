#!/usr/bin/env bash
# End-to-end test of the built sfnd binary with the AWS CLI and boto3.
#
# Builds sfnd (or uses $SFND_BIN), starts it on a free port with a temporary data
# directory, drives the control plane through `aws stepfunctions` and then through
# boto3, and stops the server. The last line is "N passed, M failed"; the exit status
# is non-zero when anything failed.
#
#   test/e2e/cli_test.sh            (needs go, aws, python3 with boto3)
#
# Environment: SFND_BIN (a built binary to use instead of building one),
# SFND_LOG_LEVEL (the server's, default info), KEEP_WORK=1 (keep the temporary
# directory with the server's log).
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sfnd-cli.XXXXXX")
PID=""
PASSED=0
FAILED=0

cleanup() {
	if [ -n "$PID" ]; then
		kill "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	fi
	[ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

pass() { PASSED=$((PASSED + 1)); echo "ok   $1"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $1${2:+: $2}"; }

# eq NAME GOT WANT
eq() {
	if [ "$2" == "$3" ]; then pass "$1"; else fail "$1" "got '$2', want '$3'"; fi
}

finish() {
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
	exit $?
}

# Dummy credentials only, and no user configuration.
export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=secret AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE="$WORK/no-config" AWS_SHARED_CREDENTIALS_FILE="$WORK/no-credentials"
export AWS_PAGER="" AWS_MAX_ATTEMPTS=1 AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_REGION

BIN=${SFND_BIN:-}
if [ -z "$BIN" ]; then
	BIN="$WORK/sfnd"
	if (cd "$ROOT" && go build -o "$BIN" ./cmd/sfnd); then pass "build sfnd"; else fail "build sfnd"; finish; fi
fi

# Port 0: the kernel picks the port, and sfnd logs the endpoint it got.
"$BIN" serve --listen 127.0.0.1:0 --data-dir "$WORK/data" --log-level "${SFND_LOG_LEVEL:-info}" >"$WORK/sfnd.log" 2>&1 &
PID=$!
ENDPOINT=""
for _ in $(seq 1 600); do
	ENDPOINT=$(sed -n 's/.*msg="sfnd listening" endpoint=\(http:[^ ]*\).*/\1/p' "$WORK/sfnd.log")
	if [ -n "$ENDPOINT" ] || ! kill -0 "$PID" 2>/dev/null; then break; fi
	sleep 0.1
done
if [ -n "$ENDPOINT" ] && kill -0 "$PID" 2>/dev/null; then pass "sfnd serves on $ENDPOINT"; else
	fail "sfnd serves" "$(cat "$WORK/sfnd.log")"
	finish
fi

sfn() { aws stepfunctions --endpoint-url "$ENDPOINT" "$@"; }

ROLE=arn:aws:iam::123456789012:role/cli-role
DEF='{"StartAt":"P","States":{"P":{"Type":"Pass","Result":"cli","End":true}}}'
DEF2='{"StartAt":"Q","States":{"Q":{"Type":"Pass","End":true}}}'
SM_ARN=arn:aws:states:us-east-1:123456789012:stateMachine:cli-sm-1
ACT_ARN=arn:aws:states:us-east-1:123456789012:activity:cli-act-1

# --- AWS CLI ---------------------------------------------------------------------

eq "cli create-state-machine" \
	"$(sfn create-state-machine --name cli-sm-1 --definition "$DEF" --role-arn "$ROLE" --type EXPRESS \
		--tags key=team,value=cli --query stateMachineArn --output text 2>&1)" "$SM_ARN"
for i in 2 3 4 5; do
	sfn create-state-machine --name "cli-sm-$i" --definition "$DEF" --role-arn "$ROLE" >/dev/null 2>&1 ||
		fail "cli create-state-machine cli-sm-$i"
done
eq "cli describe-state-machine" \
	"$(sfn describe-state-machine --state-machine-arn "$SM_ARN" --query '[name,type,status,definition]' --output text 2>&1)" \
	"$(printf 'cli-sm-1\tEXPRESS\tACTIVE\t%s' "$DEF")"
eq "cli update-state-machine" \
	"$(sfn update-state-machine --state-machine-arn "$SM_ARN" --definition "$DEF2" --query 'length(revisionId)' --output text 2>&1)" "36"
eq "cli describe after update" \
	"$(sfn describe-state-machine --state-machine-arn "$SM_ARN" --query definition --output text 2>&1)" "$DEF2"
eq "cli list-state-machines" \
	"$(sfn list-state-machines --query 'length(stateMachines)' --output text 2>&1)" "5"

# Pagination: two items, then the rest from the CLI's token, and small pages.
PAGE1=$(sfn list-state-machines --max-items 2 --output json 2>&1)
TOKEN=$(printf '%s' "$PAGE1" | python3 -c 'import json, sys; print(json.load(sys.stdin).get("NextToken", ""))' 2>/dev/null)
eq "cli list-state-machines --max-items 2" \
	"$(printf '%s' "$PAGE1" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["stateMachines"]))' 2>&1)" "2"
if [ -n "$TOKEN" ]; then pass "cli --max-items gives a NextToken"; else fail "cli --max-items gives a NextToken" "$PAGE1"; fi
eq "cli list-state-machines --starting-token" \
	"$(sfn list-state-machines --starting-token "$TOKEN" --query 'length(stateMachines)' --output text 2>&1)" "3"
eq "cli list-state-machines --page-size 1" \
	"$(sfn list-state-machines --page-size 1 --query 'stateMachines[].name' --output text 2>&1 | tr '\t\n' '  ')" \
	"cli-sm-1 cli-sm-2 cli-sm-3 cli-sm-4 cli-sm-5 "

# Tags.
sfn tag-resource --resource-arn "$SM_ARN" --tags key=env,value=test key=team,value=core >/dev/null 2>&1 || fail "cli tag-resource"
eq "cli list-tags-for-resource" \
	"$(sfn list-tags-for-resource --resource-arn "$SM_ARN" --query 'tags[].[key,value]' --output text 2>&1 | tr '\t\n' '=,')" \
	"team=core,env=test,"
sfn untag-resource --resource-arn "$SM_ARN" --tag-keys team >/dev/null 2>&1 || fail "cli untag-resource"
eq "cli tags after untag" \
	"$(sfn list-tags-for-resource --resource-arn "$SM_ARN" --query 'tags[].key' --output text 2>&1)" "env"

# Activities.
eq "cli create-activity" "$(sfn create-activity --name cli-act-1 --query activityArn --output text 2>&1)" "$ACT_ARN"
sfn create-activity --name cli-act-2 >/dev/null 2>&1 || fail "cli create-activity cli-act-2"
eq "cli describe-activity" "$(sfn describe-activity --activity-arn "$ACT_ARN" --query name --output text 2>&1)" "cli-act-1"
eq "cli list-activities --max-items 1" \
	"$(sfn list-activities --max-items 1 --query 'activities[].name' --output text 2>&1 | head -1)" "cli-act-1"
sfn delete-activity --activity-arn "$ACT_ARN" >/dev/null 2>&1 || fail "cli delete-activity"
eq "cli list-activities after delete" "$(sfn list-activities --query 'activities[].name' --output text 2>&1)" "cli-act-2"

# StartSyncExecution with the host prefix turned off (README: the CLI needs no /etc/hosts).
eq "cli start-sync-execution (AWS_DISABLE_HOST_PREFIX_INJECTION)" \
	"$(AWS_DISABLE_HOST_PREFIX_INJECTION=true sfn start-sync-execution --state-machine-arn "$SM_ARN" --query '[status,output]' --output text 2>&1)" \
	"$(printf 'SUCCEEDED\t{}')"
eq "healthz" "$(python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode().strip())' "$ENDPOINT/healthz" 2>&1)" "ok"

# Delete, and one error code.
sfn delete-state-machine --state-machine-arn "$SM_ARN" >/dev/null 2>&1 || fail "cli delete-state-machine"
ERR=$(sfn describe-state-machine --state-machine-arn "$SM_ARN" 2>&1)
if [ $? -ne 0 ] && [[ "$ERR" == *"(StateMachineDoesNotExist)"*"State Machine Does Not Exist: '$SM_ARN'"* ]]; then
	pass "cli StateMachineDoesNotExist"
else
	fail "cli StateMachineDoesNotExist" "$ERR"
fi
ERR=$(sfn create-activity --name 'bad name' 2>&1)
if [[ "$ERR" == *"(InvalidName)"* ]]; then pass "cli InvalidName"; else fail "cli InvalidName" "$ERR"; fi

# --- boto3 -----------------------------------------------------------------------

BOTO=$(ENDPOINT="$ENDPOINT" ROLE="$ROLE" python3 - <<'EOF' 2>&1
import json, os, boto3
from botocore.config import Config
from botocore.exceptions import ClientError

passed = failed = 0
def check(name, got, want):
    global passed, failed
    if got == want:
        passed += 1
        print("ok   boto3 " + name)
    else:
        failed += 1
        print("FAIL boto3 %s: got %r, want %r" % (name, got, want))

def error_code(fn, **kw):
    try:
        fn(**kw)
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None

sfn = boto3.client("stepfunctions", endpoint_url=os.environ["ENDPOINT"], region_name="eu-west-1",
                   config=Config(retries={"max_attempts": 1}))
role = os.environ["ROLE"]
d = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
arn = "arn:aws:states:eu-west-1:123456789012:stateMachine:boto-sm"

r = sfn.create_state_machine(name="boto-sm", definition=d, roleArn=role, tags=[{"key": "k", "value": "v"}])
check("create_state_machine (region from the signature)", r["stateMachineArn"], arn)
check("create_state_machine is idempotent", sfn.create_state_machine(name="boto-sm", definition=d, roleArn=role)["stateMachineArn"], arn)
check("StateMachineAlreadyExists", error_code(sfn.create_state_machine, name="boto-sm", definition=d.replace('"End"', '"Result": "other", "End"'), roleArn=role),
      ("StateMachineAlreadyExists", 400))
desc = sfn.describe_state_machine(stateMachineArn=arn)
check("describe_state_machine", (desc["name"], desc["type"], desc["status"], desc["definition"]), ("boto-sm", "STANDARD", "ACTIVE", d))
d2 = d.replace('"End"', '"Result": 1, "End"')
u = sfn.update_state_machine(stateMachineArn=arn, definition=d2)
check("update_state_machine", sfn.describe_state_machine(stateMachineArn=arn)["revisionId"], u["revisionId"])
for i in range(4):
    sfn.create_state_machine(name="boto-sm-%d" % i, definition=d, roleArn=role)
pages = list(sfn.get_paginator("list_state_machines").paginate(PaginationConfig={"PageSize": 2}))
check("list_state_machines pages", [len(p["stateMachines"]) for p in pages], [2, 2, 1])
check("list_state_machines names", sorted(m["name"] for p in pages for m in p["stateMachines"]),
      ["boto-sm", "boto-sm-0", "boto-sm-1", "boto-sm-2", "boto-sm-3"])
check("list_state_machines maxResults 1001", error_code(sfn.list_state_machines, maxResults=1001), ("ValidationException", 400))
check("list_state_machines bad nextToken", error_code(sfn.list_state_machines, nextToken="garbage"), ("InvalidToken", 400))
sfn.tag_resource(resourceArn=arn, tags=[{"key": "k2", "value": "v2"}])
sfn.untag_resource(resourceArn=arn, tagKeys=["k"])
check("tags", sfn.list_tags_for_resource(resourceArn=arn)["tags"], [{"key": "k2", "value": "v2"}])
a = sfn.create_activity(name="boto-act")["activityArn"]
check("create_activity", a, "arn:aws:states:eu-west-1:123456789012:activity:boto-act")
check("describe_activity", sfn.describe_activity(activityArn=a)["name"], "boto-act")
check("list_activities", [x["name"] for x in sfn.list_activities()["activities"]], ["boto-act"])
sfn.delete_activity(activityArn=a)
check("ActivityDoesNotExist", error_code(sfn.describe_activity, activityArn=a), ("ActivityDoesNotExist", 400))
sfn.delete_state_machine(stateMachineArn=arn)
check("StateMachineDoesNotExist", error_code(sfn.describe_state_machine, stateMachineArn=arn), ("StateMachineDoesNotExist", 400))
check("InvalidArn", error_code(sfn.describe_state_machine, stateMachineArn="not-an-arn"), ("InvalidArn", 400))
check("InvalidName", error_code(sfn.create_activity, name="a/b"), ("InvalidName", 400))
print("BOTO %d %d" % (passed, failed))
EOF
)
echo "$BOTO" | grep -v '^BOTO '
COUNTS=$(echo "$BOTO" | sed -n 's/^BOTO \([0-9]*\) \([0-9]*\)$/\1 \2/p')
if [ -n "$COUNTS" ]; then
	PASSED=$((PASSED + ${COUNTS% *}))
	FAILED=$((FAILED + ${COUNTS#* }))
else
	fail "boto3 script" "did not finish"
fi

# The server is still healthy after all of it.
if kill -0 "$PID" 2>/dev/null; then pass "sfnd still running"; else fail "sfnd still running" "$(cat "$WORK/sfnd.log")"; fi
finish
