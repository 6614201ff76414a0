# GLUE.md §6.25 Blueprint failures.
import json
from gluetest import *

SPEC = {"WorkflowName": {"type": "String"}, "Boom": {"type": "Boolean", "defaultValue": False}}
LAYOUT = '''
from awsglue.blueprint.workflow import Workflow, Entities
from awsglue.blueprint.job import Job

def generate_layout(user_params, system_params):
    if user_params["Boom"]:
        raise RuntimeError("layout exploded on purpose")
    j = Job(Name="j", Role="r", Command={"Name": "pythonshell", "ScriptLocation": "s3://x/y.py"})
    return Workflow(Name=user_params["WorkflowName"], Entities=Entities(Jobs=[j]))
'''
loc = put_s3("blueprints", PREFIX + "/bp.zip", zip_bytes({
    "bp/blueprint.cfg": json.dumps({"layoutGenerator": "bp.layout.generate_layout", "parameterSpec": SPEC}),
    "bp/layout.py": LAYOUT,
}))
bpn = name("bp")
glue.create_blueprint(Name=bpn, BlueprintLocation=loc)
eq(wait_blueprint(bpn)["Status"], "ACTIVE", "Status")

expect_error("InvalidInputException", glue.start_blueprint_run, BlueprintName=bpn, Parameters="{}", RoleArn=ROLE)
expect_error("InvalidInputException", glue.start_blueprint_run, BlueprintName=bpn, Parameters="not json", RoleArn=ROLE)

wf = name("never")
run_id = glue.start_blueprint_run(BlueprintName=bpn, Parameters=json.dumps({"WorkflowName": wf, "Boom": True}), RoleArn=ROLE)["RunId"]
r = wait_blueprint_run(bpn, run_id)
eq(r["State"], "FAILED", "State")
check("layout exploded on purpose" in r.get("ErrorMessage", ""), "ErrorMessage %r", r.get("ErrorMessage"))
expect_error("EntityNotFoundException", glue.get_workflow, Name=wf)
check(not [j for j in glue.list_jobs()["JobNames"] if j.startswith("j_")], "jobs left behind")

bad = name("bad")
glue.create_blueprint(Name=bad, BlueprintLocation=put_s3("blueprints", PREFIX + "/bad.zip", zip_bytes({"x/readme.txt": "no cfg"})))
b = wait_blueprint(bad)
eq(b["Status"], "FAILED", "bad archive Status")
check("blueprint.cfg" in b.get("ErrorMessage", ""), "ErrorMessage %r", b.get("ErrorMessage"))
expect_error("IllegalBlueprintStateException", glue.start_blueprint_run, BlueprintName=bad, Parameters="{}", RoleArn=ROLE)
done()
