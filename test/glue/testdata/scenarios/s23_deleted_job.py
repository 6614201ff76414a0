# GLUE.md §6.23 A job deleted while the run runs.
from gluetest import *

wf = name("wf")
glue.create_workflow(Name=wf)
j1 = create_job(name("J1"), "sleep.py", DefaultArguments={"--seconds": "3"})
j2 = create_job(name("J2"))
trigger(name("T0"), wf, [{"JobName": j1}], typ="ON_DEMAND")
trigger(name("T1"), wf, [{"JobName": j2}], conditions=[{"JobName": j1, "State": "SUCCEEDED"}])
run_id = glue.start_workflow_run(Name=wf)["RunId"]
glue.delete_job(JobName=j2)
run = wait_run(wf, run_id)
eq(run["Status"], "COMPLETED", "Status")
eq(node(run, "JOB", j2)["JobDetails"]["JobRuns"][0]["JobRunState"], "ERROR", "J2 node")
stats(run, ErroredActions=1, SucceededActions=1)
done()
