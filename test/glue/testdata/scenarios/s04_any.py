# GLUE.md §6.4 ANY trigger and §6.5 AND blocked.
from gluetest import *

for logical, total_runs_j3, succeeded in (("ANY", 1, 2), ("AND", 0, 1)):
    wf = name("wf-" + logical)
    glue.create_workflow(Name=wf)
    j1 = create_job(name("J1-" + logical), "fail.py")
    j2 = create_job(name("J2-" + logical))
    j3 = create_job(name("J3-" + logical))
    trigger(name("T0-" + logical), wf, [{"JobName": j1}, {"JobName": j2}], typ="ON_DEMAND")
    trigger(name("T1-" + logical), wf, [{"JobName": j3}], logical=logical,
            conditions=[{"JobName": j1, "State": "SUCCEEDED"}, {"JobName": j2, "State": "SUCCEEDED"}])
    run = wait_run(wf, glue.start_workflow_run(Name=wf)["RunId"])
    eq(run["Status"], "COMPLETED", logical + " Status")
    eq(len(job_runs(j3)), total_runs_j3, logical + " runs of J3")
    stats(run, TotalActions=3, SucceededActions=succeeded, FailedActions=1)
    if logical == "AND":
        check("JobDetails" not in node(run, "JOB", j3), "J3 node has JobDetails: %s", node(run, "JOB", j3))
    jr = job_runs(j1)[0]
    eq(jr["JobRunState"], "FAILED", "J1 state")
    check("failing on purpose" in jr.get("ErrorMessage", ""), "J1 ErrorMessage %r", jr.get("ErrorMessage"))
done()
