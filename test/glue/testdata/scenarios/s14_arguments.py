# GLUE.md §6.14 Arguments.
import json
from gluetest import *

wf = name("wf")
glue.create_workflow(Name=wf)
out = fixture_path("argv.json")
j1 = create_job(name("J1"), "argdump.py", DefaultArguments={"--x": "d", "--y": "d", "--out": out},
                NonOverridableArguments={"--z": "n"})
trigger(name("T0"), wf, [{"JobName": j1, "Arguments": {"--y": "t", "--z": "t", "--w": "t"}}], typ="ON_DEMAND")
run_id = glue.start_workflow_run(Name=wf)["RunId"]
stats(wait_run(wf, run_id), SucceededActions=1)
argv = json.load(open(out))
args = dict(zip(argv[::2], argv[1::2]))
jr = job_runs(j1)[0]
want = {"--x": "d", "--y": "t", "--z": "n", "--w": "t", "--JOB_NAME": j1, "--JOB_RUN_ID": jr["Id"],
        "--WORKFLOW_NAME": wf, "--WORKFLOW_RUN_ID": run_id}
for k, v in want.items():
    eq(args.get(k), v, "argv " + k)
eq(len(argv) % 2, 0, "pairs")
done()
