# GLUE.md §6.10 Static graph of the 3-job chain.
import re
from gluetest import *

wf = name("wf")
glue.create_workflow(Name=wf)
j1, j2, j3 = (create_job(name(j)) for j in ("J1", "J2", "J3"))
t0 = trigger(name("T0"), wf, [{"JobName": j1}], typ="ON_DEMAND")
t1 = trigger(name("T1"), wf, [{"JobName": j2}], conditions=[{"JobName": j1, "State": "SUCCEEDED"}])
t2 = trigger(name("T2"), wf, [{"JobName": j3}], conditions=[{"JobName": j2, "State": "SUCCEEDED"}])

check("Graph" not in glue.get_workflow(Name=wf)["Workflow"], "Graph without IncludeGraph")
g = glue.get_workflow(Name=wf, IncludeGraph=True)["Workflow"]["Graph"]
eq(sorted(n["Type"] for n in g["Nodes"]), ["JOB"] * 3 + ["TRIGGER"] * 3, "node types")
ids = {n["Name"]: n["UniqueId"] for n in g["Nodes"]}
for n in g["Nodes"]:
    check(re.fullmatch(r"wnode_[0-9a-f]{64}", n["UniqueId"]), "UniqueId %s", n["UniqueId"])
    if n["Type"] == "TRIGGER":
        eq(n["TriggerDetails"]["Trigger"]["Name"], n["Name"], "TriggerDetails")
edges = sorted((e["SourceId"], e["DestinationId"]) for e in g["Edges"])
want = sorted([(ids[t0], ids[j1]), (ids[j1], ids[t1]), (ids[t1], ids[j2]), (ids[j2], ids[t2]), (ids[t2], ids[j3])])
eq(edges, want, "edges")
done()
