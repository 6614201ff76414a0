# GLUE.md §6.15 StopWorkflowRun.
from gluetest import *

wf = name("wf")
glue.create_workflow(Name=wf)
j1 = create_job(name("J1"), "sleep.py", DefaultArguments={"--seconds": "60"})
j2 = create_job(name("J2"))
trigger(name("T0"), wf, [{"JobName": j1}], typ="ON_DEMAND")
trigger(name("T1"), wf, [{"JobName": j2}], conditions=[{"JobName": j1, "State": "STOPPED"}])
run_id = glue.start_workflow_run(Name=wf)["RunId"]
wait_for(lambda: [r for r in job_runs(j1) if r["JobRunState"] == "RUNNING"], "J1 RUNNING")
glue.stop_workflow_run(Name=wf, RunId=run_id)
run = wait_run(wf, run_id, timeout=40)
eq(run["Status"], "STOPPED", "Status")
eq(job_runs(j1)[0]["JobRunState"], "STOPPED", "J1")
eq(len(job_runs(j2)), 0, "J2 runs")
stats(run, StoppedActions=1)
expect_error("IllegalWorkflowStateException", glue.stop_workflow_run, Name=wf, RunId=run_id)
done()
