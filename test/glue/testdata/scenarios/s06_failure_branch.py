# GLUE.md §6.6 Failure branch.
from gluetest import *

wf = name("wf")
glue.create_workflow(Name=wf)
j1 = create_job(name("J1"), "fail.py")
cleanup = create_job(name("cleanup"))
j2 = create_job(name("J2"))
trigger(name("T0"), wf, [{"JobName": j1}], typ="ON_DEMAND")
trigger(name("T1"), wf, [{"JobName": cleanup}], conditions=[{"JobName": j1, "State": "FAILED"}])
trigger(name("T2"), wf, [{"JobName": j2}], conditions=[{"JobName": j1, "State": "SUCCEEDED"}])
run = wait_run(wf, glue.start_workflow_run(Name=wf)["RunId"])
eq(run["Status"], "COMPLETED", "Status")
eq(len(job_runs(cleanup)), 1, "cleanup runs")
eq(len(job_runs(j2)), 0, "J2 runs")
stats(run, TotalActions=3, SucceededActions=1, FailedActions=1)
done()
