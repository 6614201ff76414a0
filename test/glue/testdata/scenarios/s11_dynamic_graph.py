# GLUE.md §6.11 Dynamic graph while J2 runs.
from gluetest import *

wf = name("wf")
glue.create_workflow(Name=wf)
j1 = create_job(name("J1"))
j2 = create_job(name("J2"), "sleep.py", DefaultArguments={"--seconds": "6"})
j3 = create_job(name("J3"))
trigger(name("T0"), wf, [{"JobName": j1}], typ="ON_DEMAND")
trigger(name("T1"), wf, [{"JobName": j2}], conditions=[{"JobName": j1, "State": "SUCCEEDED"}])
trigger(name("T2"), wf, [{"JobName": j3}], conditions=[{"JobName": j2, "State": "SUCCEEDED"}])
run_id = glue.start_workflow_run(Name=wf)["RunId"]

def j2_running():
    run = glue.get_workflow_run(Name=wf, RunId=run_id, IncludeGraph=True)["Run"]
    jd = node(run, "JOB", j2).get("JobDetails")
    return run if jd and jd["JobRuns"][0]["JobRunState"] == "RUNNING" else None

run = wait_for(j2_running, "J2 RUNNING")
eq(node(run, "JOB", j1)["JobDetails"]["JobRuns"][0]["JobRunState"], "SUCCEEDED", "J1")
check("JobDetails" not in node(run, "JOB", j3), "J3 has JobDetails")
stats(run, RunningActions=1)
eq(wait_run(wf, run_id)["Status"], "COMPLETED", "Status")
done()
