"""Helpers for the GLUE.md §6 acceptance scenarios: boto3 against a running sfnd.

Environment: SFND_ENDPOINT (the node's URL), SFND_FIXTURES (a directory for fixture
scripts and flag files), SFND_PREFIX (a name prefix unique to this scenario run).
"""

import json
import os
import sys
import time

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = os.environ["SFND_ENDPOINT"]
FIXTURES = os.environ["SFND_FIXTURES"]
PREFIX = os.environ.get("SFND_PREFIX", "t")
ROLE = "arn:aws:iam::123456789012:role/glue"
REGION = "us-east-1"
ACCOUNT = "123456789012"


def client():
    return boto3.client(
        "glue", endpoint_url=ENDPOINT, region_name=REGION,
        aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 2, "mode": "standard"}),
    )


glue = client()


def name(s):
    """A resource name unique to this scenario run."""
    return "%s-%s" % (PREFIX, s)


def check(cond, msg, *args):
    if not cond:
        raise AssertionError(msg % args if args else msg)


def eq(got, want, what=""):
    if got != want:
        raise AssertionError("%s: got %r, want %r" % (what, got, want))


def expect_error(code, fn, *args, **kwargs):
    """Call fn and return the ClientError, which must carry code."""
    try:
        fn(*args, **kwargs)
    except ClientError as e:
        got = e.response["Error"]["Code"]
        if got != code:
            raise AssertionError("%s: want %s, got %s: %s" % (fn.__name__, code, got, e.response["Error"].get("Message")))
        return e
    raise AssertionError("%s(%s) succeeded; want %s" % (getattr(fn, "__name__", fn), kwargs, code))


# Fixture job scripts (GLUE.md §6).
SCRIPTS = {
    "ok.py": "print('ok')\n",
    "fail.py": "import sys\nsys.stderr.write('failing on purpose\\n')\nsys.exit(1)\n",
    "sleep.py": (
        "import sys, time\n"
        "from awsglue.utils import getResolvedOptions\n"
        "time.sleep(float(getResolvedOptions(sys.argv, ['seconds'])['seconds']))\n"
    ),
    "props.py": (
        "import json, sys, boto3\n"
        "from awsglue.utils import getResolvedOptions\n"
        "a = getResolvedOptions(sys.argv, ['WORKFLOW_NAME', 'WORKFLOW_RUN_ID', 'mode', 'out'])\n"
        "glue = boto3.client('glue')\n"
        "if a['mode'] == 'put':\n"
        "    glue.put_workflow_run_properties(Name=a['WORKFLOW_NAME'], RunId=a['WORKFLOW_RUN_ID'], RunProperties={'c': '3'})\n"
        "else:\n"
        "    p = glue.get_workflow_run_properties(Name=a['WORKFLOW_NAME'], RunId=a['WORKFLOW_RUN_ID'])['RunProperties']\n"
        "    open(a['out'], 'w').write(json.dumps(p))\n"
    ),
    "argdump.py": (
        "import json, sys\n"
        "from awsglue.utils import getResolvedOptions\n"
        "out = getResolvedOptions(sys.argv, ['out'])['out']\n"
        "json.dump(sys.argv[1:], open(out, 'w'))\n"
    ),
    "flag.py": (
        "import os, sys\n"
        "from awsglue.utils import getResolvedOptions\n"
        "flag = getResolvedOptions(sys.argv, ['flag'])['flag']\n"
        "if os.path.exists(flag):\n"
        "    sys.exit('flag file %s says fail' % flag)\n"
    ),
}


def script(fname):
    p = os.path.join(FIXTURES, fname)
    if not os.path.exists(p):
        with open(p, "w") as f:
            f.write(SCRIPTS[fname])
    return "file://" + p


def fixture_path(fname):
    return os.path.join(FIXTURES, PREFIX + "-" + fname)


def create_job(n, fname="ok.py", **kw):
    glue.create_job(Name=n, Role=ROLE, Command={"Name": "pythonshell", "ScriptLocation": script(fname), "PythonVersion": "3.9"}, **kw)
    return n


def trigger(n, wf, actions, typ="CONDITIONAL", conditions=None, logical=None, **kw):
    args = dict(Name=n, WorkflowName=wf, Type=typ, Actions=actions, **kw)
    if conditions is not None:
        pred = {"Conditions": [dict(LogicalOperator="EQUALS", **c) for c in conditions]}
        if logical:
            pred["Logical"] = logical
        args["Predicate"] = pred
    if typ == "CONDITIONAL":
        args.setdefault("StartOnCreation", True)
    glue.create_trigger(**args)
    return n


def wait_run(wf, run_id, timeout=90):
    """Poll get_workflow_run until the run is no longer RUNNING/STOPPING; return it."""
    deadline = time.time() + timeout
    while True:
        run = glue.get_workflow_run(Name=wf, RunId=run_id, IncludeGraph=True)["Run"]
        if run["Status"] not in ("RUNNING", "STOPPING"):
            return run
        if time.time() > deadline:
            raise AssertionError("run %s of %s still %s after %ss: %s" % (run_id, wf, run["Status"], timeout, json.dumps(run, default=str)))
        time.sleep(0.2)


def wait_for(fn, what, timeout=60):
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.time() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.2)


def job_runs(job):
    return glue.get_job_runs(JobName=job)["JobRuns"]


def node(run_or_graph, kind, n):
    graph = run_or_graph.get("Graph", run_or_graph)
    for nd in graph["Nodes"]:
        if nd["Type"] == kind and nd["Name"] == n:
            return nd
    raise AssertionError("no %s node %s in %s" % (kind, n, [x["Name"] for x in graph["Nodes"]]))


def stats(run, **want):
    s = run["Statistics"]
    for k, v in want.items():
        eq(s.get(k, 0), v, "Statistics." + k)


def done(msg="ok"):
    print(msg)
    sys.exit(0)


def put_s3(bucket, key, data):
    """Write an object where the node's --s3-local-root serves it; return its s3:// URL."""
    root = os.environ["SFND_S3_ROOT"]
    p = os.path.join(root, bucket, key)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)
    return "s3://%s/%s" % (bucket, key)


def zip_bytes(files):
    import io
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n, body in files.items():
            z.writestr(n, body)
    return buf.getvalue()


def wait_blueprint(n, timeout=60):
    deadline = time.time() + timeout
    while True:
        bp = glue.get_blueprint(Name=n)["Blueprint"]
        if bp["Status"] not in ("CREATING", "UPDATING"):
            return bp
        if time.time() > deadline:
            raise AssertionError("blueprint %s still %s" % (n, bp["Status"]))
        time.sleep(0.2)


def wait_blueprint_run(n, run_id, timeout=90):
    deadline = time.time() + timeout
    while True:
        r = glue.get_blueprint_run(BlueprintName=n, RunId=run_id)["BlueprintRun"]
        if r["State"] not in ("RUNNING", "ROLLING_BACK"):
            return r
        if time.time() > deadline:
            raise AssertionError("blueprint run %s still %s" % (run_id, r["State"]))
        time.sleep(0.2)
