# GLUE.md §6.12 Trigger snapshot.
from gluetest import *

wf = name("wf")
glue.create_workflow(Name=wf)
j1 = create_job(name("J1"), "sleep.py", DefaultArguments={"--seconds": "4"})
j2, j3, j4 = (create_job(name(j)) for j in ("J2", "J3", "J4"))
trigger(name("T0"), wf, [{"JobName": j1}], typ="ON_DEMAND")
trigger(name("T1"), wf, [{"JobName": j2}], conditions=[{"JobName": j1, "State": "SUCCEEDED"}])
t2 = trigger(name("T2"), wf, [{"JobName": j3}], conditions=[{"JobName": j2, "State": "SUCCEEDED"}])
first = glue.start_workflow_run(Name=wf)["RunId"]
glue.update_trigger(Name=t2, TriggerUpdate={"Actions": [{"JobName": j4}],
                    "Predicate": {"Conditions": [{"LogicalOperator": "EQUALS", "JobName": j2, "State": "SUCCEEDED"}]}})
eq(wait_run(wf, first)["Status"], "COMPLETED", "first")
eq((len(job_runs(j3)), len(job_runs(j4))), (1, 0), "first run started J3")
wait_run(wf, glue.start_workflow_run(Name=wf)["RunId"])
eq((len(job_runs(j3)), len(job_runs(j4))), (1, 1), "second run started J4")
names = [n["Name"] for n in glue.get_workflow(Name=wf, IncludeGraph=True)["Workflow"]["Graph"]["Nodes"]]
check(j4 in names and j3 not in names, "current design %s", names)
done()
