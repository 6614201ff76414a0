# GLUE.md §6.18 Trigger validation.
from gluetest import *

wf = name("wf")
glue.create_workflow(Name=wf)
j1, j2 = create_job(name("J1")), create_job(name("J2"))
trigger(name("T0"), wf, [{"JobName": j1}], typ="ON_DEMAND")

e = expect_error("InvalidInputException", glue.create_trigger, Name=name("c1"), WorkflowName=wf, Type="CONDITIONAL", Actions=[{"JobName": j2}])
check("Predicate cannot be null or empty" in e.response["Error"]["Message"], "message %s", e.response["Error"]["Message"])
e = expect_error("InvalidInputException", glue.create_trigger, Name=name("c2"), WorkflowName=wf, Type="CONDITIONAL",
                 Actions=[{"JobName": j2}], Predicate={"Conditions": [{"JobName": j1, "State": "SUCCEEDED"}]})
check("Logical operator cannot be null or empty" in e.response["Error"]["Message"], "message %s", e.response["Error"]["Message"])
expect_error("InvalidInputException", glue.create_trigger, Name=name("c3"), WorkflowName=wf, Type="CONDITIONAL",
             Actions=[{"JobName": j1}], Predicate={"Conditions": [{"LogicalOperator": "EQUALS", "JobName": j1, "State": "SUCCEEDED"}]})
expect_error("InvalidInputException", glue.create_trigger, Name=name("c4"), Type="ON_DEMAND", Actions=[{"JobName": j1}], StartOnCreation=True)
expect_error("InvalidInputException", glue.create_trigger, Name=name("c5"), WorkflowName=wf, Type="ON_DEMAND", Actions=[{"JobName": j2}])
expect_error("ValidationException", glue.create_trigger, Name=name("c6"), Type="BOGUS", Actions=[{"JobName": j1}])
for n in ("c1", "c2", "c3", "c4", "c5", "c6"):
    expect_error("EntityNotFoundException", glue.get_trigger, Name=name(n))

# §6.19 second half: stop/start toggles a CONDITIONAL trigger.
t1 = trigger(name("T1"), wf, [{"JobName": j2}], conditions=[{"JobName": j1, "State": "SUCCEEDED"}])
eq(glue.get_trigger(Name=t1)["Trigger"]["State"], "ACTIVATED", "created with StartOnCreation")
glue.stop_trigger(Name=t1)
eq(glue.get_trigger(Name=t1)["Trigger"]["State"], "DEACTIVATED", "after stop_trigger")
glue.start_trigger(Name=t1)
eq(glue.get_trigger(Name=t1)["Trigger"]["State"], "ACTIVATED", "after start_trigger")
done()
