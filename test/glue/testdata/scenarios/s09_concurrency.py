# GLUE.md §6.9 MaxConcurrentRuns of a workflow.
from gluetest import *

wf = name("wf")
glue.create_workflow(Name=wf, MaxConcurrentRuns=1)
j1 = create_job(name("J1"), "sleep.py", DefaultArguments={"--seconds": "5"}, ExecutionProperty={"MaxConcurrentRuns": 5})
trigger(name("T0"), wf, [{"JobName": j1}], typ="ON_DEMAND")
first = glue.start_workflow_run(Name=wf)["RunId"]
expect_error("ConcurrentRunsExceededException", glue.start_workflow_run, Name=wf)
eq(wait_run(wf, first)["Status"], "COMPLETED", "first run")
wait_run(wf, glue.start_workflow_run(Name=wf)["RunId"])

wf2 = name("wf2")
glue.create_workflow(Name=wf2)
trigger(name("T0b"), wf2, [{"JobName": j1}], typ="ON_DEMAND")
a = glue.start_workflow_run(Name=wf2)["RunId"]
b = glue.start_workflow_run(Name=wf2)["RunId"]
for r in (a, b):
    eq(wait_run(wf2, r)["Status"], "COMPLETED", "unlimited run")
done()
