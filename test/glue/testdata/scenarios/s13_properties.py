# GLUE.md §6.13 Run properties.
import json
from gluetest import *

wf = name("wf")
glue.create_workflow(Name=wf, DefaultRunProperties={"a": "1", "b": "1"})
out = fixture_path("props.json")
j1 = create_job(name("J1"), "props.py", DefaultArguments={"--mode": "put", "--out": "-"})
j2 = create_job(name("J2"), "props.py", DefaultArguments={"--mode": "get", "--out": out})
trigger(name("T0"), wf, [{"JobName": j1}], typ="ON_DEMAND")
trigger(name("T1"), wf, [{"JobName": j2}], conditions=[{"JobName": j1, "State": "SUCCEEDED"}])
run_id = glue.start_workflow_run(Name=wf, RunProperties={"b": "2"})["RunId"]
run = wait_run(wf, run_id)
stats(run, SucceededActions=2)
eq(json.load(open(out)), {"a": "1", "b": "2", "c": "3"}, "J2 saw")
eq(glue.get_workflow_run_properties(Name=wf, RunId=run_id)["RunProperties"], {"a": "1", "b": "2", "c": "3"}, "run properties")
eq(glue.get_workflow(Name=wf)["Workflow"]["DefaultRunProperties"], {"a": "1", "b": "1"}, "defaults")
expect_error("EntityNotFoundException", glue.put_workflow_run_properties, Name=wf, RunId="wr_" + "0" * 64, RunProperties={"x": "y"})
done()
