# GLUE.md §6.24 Blueprint happy path.
import json, re
from gluetest import *

SPEC = {
    "WorkflowName": {"type": "String", "collection": False, "description": "the workflow"},
    "Dpu": {"type": "Integer", "defaultValue": 2},
    "Script": {"type": "String", "defaultValue": ""},
}
LAYOUT = '''
from awsglue.blueprint.workflow import Workflow, Entities
from awsglue.blueprint.job import Job

def generate_layout(user_params, system_params):
    cmd = {"Name": "pythonshell", "ScriptLocation": user_params["Script"], "PythonVersion": "3.9"}
    first = Job(Name="first", Role="arn:aws:iam::%s:role/glue" % system_params["accountId"], Command=cmd,
                DefaultArguments={"--dpu": str(user_params["Dpu"])})
    second = Job(Name="second", Role="arn:aws:iam::123456789012:role/glue", Command=cmd, DependsOn={first: "SUCCEEDED"})
    return Workflow(Name=user_params["WorkflowName"], Entities=Entities(Jobs=[first, second]))
'''
loc = put_s3("blueprints", PREFIX + "/bp.zip", zip_bytes({
    "bp/blueprint.cfg": json.dumps({"layoutGenerator": "bp.layout.generate_layout", "parameterSpec": SPEC}),
    "bp/layout.py": LAYOUT,
}))
bpn = name("bp")
glue.create_blueprint(Name=bpn, BlueprintLocation=loc)
bp = wait_blueprint(bpn)
eq(bp["Status"], "ACTIVE", "Status (%s)" % bp.get("ErrorMessage"))
check("ParameterSpec" not in bp, "ParameterSpec without IncludeParameterSpec")
bp = glue.get_blueprint(Name=bpn, IncludeParameterSpec=True)["Blueprint"]
eq(json.loads(bp["ParameterSpec"]), SPEC, "ParameterSpec")

wf = name("bpwf")
run_id = glue.start_blueprint_run(BlueprintName=bpn, Parameters=json.dumps({"WorkflowName": wf, "Script": script("ok.py")}),
                                  RoleArn=ROLE)["RunId"]
r = wait_blueprint_run(bpn, run_id)
eq(r["State"], "SUCCEEDED", "BlueprintRun State (%s)" % r.get("ErrorMessage"))
eq(r["WorkflowName"], wf, "WorkflowName")
w = glue.get_workflow(Name=wf, IncludeGraph=True)["Workflow"]
eq(w["BlueprintDetails"], {"BlueprintName": bpn, "RunId": run_id}, "BlueprintDetails")
names = {n["Name"]: n for n in w["Graph"]["Nodes"]}
check(wf + "_starting_trigger" in names, "no start trigger in %s", list(names))
eq(names[wf + "_starting_trigger"]["TriggerDetails"]["Trigger"]["Type"], "ON_DEMAND", "start trigger type")
jobs = sorted(n for n, x in names.items() if x["Type"] == "JOB")
eq(len(jobs), 2, "jobs")
m = re.fullmatch(r"first_(\w+)", jobs[0])
check(m, "suffixed job name %s", jobs[0])
sfx = m.group(1)
eq(jobs[1], "second_" + sfx, "second job")
cond = names["%s_second_%s_trigger" % (wf, sfx)]["TriggerDetails"]["Trigger"]
eq(cond["State"], "ACTIVATED", "conditional trigger state")
eq(glue.get_job(JobName=jobs[0])["Job"]["DefaultArguments"], {"--dpu": "2"}, "defaulted parameter")

run = wait_run(wf, glue.start_workflow_run(Name=wf)["RunId"])
eq(run["Status"], "COMPLETED", "workflow run")
stats(run, SucceededActions=2)
done()
