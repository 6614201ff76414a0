# GLUE.md §6.7 Resume and §6.8 resume pruning and errors.
import os
from gluetest import *

wf = name("wf")
glue.create_workflow(Name=wf)
flag = fixture_path("flag")
open(flag, "w").close()
j1 = create_job(name("J1"))
j2 = create_job(name("J2"), "flag.py", DefaultArguments={"--flag": flag})
j3 = create_job(name("J3"))
t0 = trigger(name("T0"), wf, [{"JobName": j1}], typ="ON_DEMAND")
trigger(name("T1"), wf, [{"JobName": j2}], conditions=[{"JobName": j1, "State": "SUCCEEDED"}])
trigger(name("T2"), wf, [{"JobName": j3}], conditions=[{"JobName": j2, "State": "SUCCEEDED"}])
first = glue.start_workflow_run(Name=wf)["RunId"]
run = wait_run(wf, first)
eq(run["Status"], "COMPLETED", "first Status")
stats(run, FailedActions=1, SucceededActions=1)
eq(len(job_runs(j3)), 0, "J3 runs after the first run")
ids = {n["Name"]: n["UniqueId"] for n in run["Graph"]["Nodes"]}

# §6.8 errors before the fix.
expect_error("InvalidInputException", glue.resume_workflow_run, Name=wf, RunId=first, NodeIds=[ids[t0]])
expect_error("InvalidInputException", glue.resume_workflow_run, Name=wf, RunId=first, NodeIds=[ids[j3]])

os.remove(flag)
r = glue.resume_workflow_run(Name=wf, RunId=first, NodeIds=[ids[j2]])
second = r["RunId"]
check(second != first, "resume kept the run id")
eq(r["NodeIds"], [ids[j2]], "NodeIds")
expect_error("IllegalWorkflowStateException", glue.resume_workflow_run, Name=wf, RunId=second, NodeIds=[ids[j2]])
run2 = wait_run(wf, second)
eq(run2["Status"], "COMPLETED", "resumed Status")
eq(run2.get("PreviousRunId"), first, "PreviousRunId")
stats(run2, SucceededActions=3)
eq(len(job_runs(j1)), 1, "J1 runs in total")
eq(len(job_runs(j2)), 2, "J2 runs in total")
eq(len(job_runs(j3)), 1, "J3 runs in total")
eq(node(run2, "JOB", j1)["JobDetails"]["JobRuns"][0]["JobRunState"], "SUCCEEDED", "J1 copied into the resumed graph")

# §6.8 pruning: in the resumed run J2 and J3 both ran; resuming both keeps only J2
# (J3 is downstream of it and runs again anyway). A resumed run can be resumed.
r = glue.resume_workflow_run(Name=wf, RunId=second, NodeIds=[ids[j2], ids[j3]])
eq(r["NodeIds"], [ids[j2]], "pruned NodeIds")
run3 = wait_run(wf, r["RunId"])
eq(run3.get("PreviousRunId"), second, "PreviousRunId of the third run")
stats(run3, SucceededActions=3)
eq((len(job_runs(j1)), len(job_runs(j2)), len(job_runs(j3))), (1, 3, 2), "runs per job after the third run")
done()
