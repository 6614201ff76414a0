# GLUE.md §6.2 Create and duplicate.
import time
from gluetest import *

wf = name("wf")
glue.create_workflow(Name=wf, Description="d", DefaultRunProperties={"a": "1"}, MaxConcurrentRuns=3)
expect_error("AlreadyExistsException", glue.create_workflow, Name=wf)
w = glue.get_workflow(Name=wf)["Workflow"]
eq(w["Name"], wf, "Name")
eq(w["DefaultRunProperties"], {"a": "1"}, "DefaultRunProperties")
eq(w["MaxConcurrentRuns"], 3, "MaxConcurrentRuns")
check(w.get("CreatedOn") and w.get("LastModifiedOn"), "timestamps missing: %s", w)
time.sleep(1.1)
glue.update_workflow(Name=wf, Description="e")
w2 = glue.get_workflow(Name=wf)["Workflow"]
check(w2["LastModifiedOn"] > w["LastModifiedOn"], "LastModifiedOn not bumped: %s -> %s", w["LastModifiedOn"], w2["LastModifiedOn"])
eq(w2["CreatedOn"], w["CreatedOn"], "CreatedOn")
eq(w2["Description"], "e", "Description")
done()
