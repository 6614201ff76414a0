# GLUE.md §6.3 3-job chain (and §6.1's get_workflow_runs paginator).
from gluetest import *

wf = name("wf")
glue.create_workflow(Name=wf)
j1, j2, j3 = (create_job(name(j)) for j in ("J1", "J2", "J3"))
t0 = trigger(name("T0"), wf, [{"JobName": j1}], typ="ON_DEMAND")
t1 = trigger(name("T1"), wf, [{"JobName": j2}], conditions=[{"JobName": j1, "State": "SUCCEEDED"}])
t2 = trigger(name("T2"), wf, [{"JobName": j3}], conditions=[{"JobName": j2, "State": "SUCCEEDED"}])
run_id = glue.start_workflow_run(Name=wf)["RunId"]
run = wait_run(wf, run_id)
eq(run["Status"], "COMPLETED", "Status")
check(run.get("CompletedOn"), "CompletedOn missing")
stats(run, TotalActions=3, SucceededActions=3, FailedActions=0, StoppedActions=0, TimeoutActions=0, ErroredActions=0, RunningActions=0)
starts = []
for job, trig in ((j1, t0), (j2, t1), (j3, t2)):
    runs = job_runs(job)
    eq(len(runs), 1, "runs of " + job)
    eq(runs[0]["TriggerName"], trig, "TriggerName of " + job)
    eq(runs[0]["JobRunState"], "SUCCEEDED", "state of " + job)
    starts.append(runs[0]["StartedOn"])
check(starts[0] < starts[1] < starts[2], "start order %s", starts)

# A second run, then the paginator with MaxResults=1 yields both.
run2 = glue.start_workflow_run(Name=wf)["RunId"]
wait_run(wf, run2)
pages = list(glue.get_paginator("get_workflow_runs").paginate(Name=wf, PaginationConfig={"PageSize": 1}))
ids = [r["WorkflowRunId"] for pg in pages for r in pg["Runs"]]
eq(sorted(ids), sorted([run_id, run2]), "paged run ids")
check(all(len(pg["Runs"]) <= 1 for pg in pages), "page larger than 1")
done()
