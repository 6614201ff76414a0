# GLUE.md §6.17 Job concurrency and BatchStopJobRun.
from gluetest import *

j = create_job(name("J"), "sleep.py", DefaultArguments={"--seconds": "60"})
first = glue.start_job_run(JobName=j)["JobRunId"]
e = expect_error("ConcurrentRunsExceededException", glue.start_job_run, JobName=j)
check("Concurrent runs exceeded for " + j in e.response["Error"]["Message"], "message %s", e.response["Error"]["Message"])
wait_for(lambda: glue.get_job_run(JobName=j, RunId=first)["JobRun"]["JobRunState"] == "RUNNING", "RUNNING")
r = glue.batch_stop_job_run(JobName=j, JobRunIds=[first, "jr_bogus"])
eq([s["JobRunId"] for s in r["SuccessfulSubmissions"]], [first], "SuccessfulSubmissions")
eq([e["JobRunId"] for e in r["Errors"]], ["jr_bogus"], "Errors")
wait_for(lambda: glue.get_job_run(JobName=j, RunId=first)["JobRun"]["JobRunState"] == "STOPPED", "STOPPED", timeout=40)
jr = glue.get_job_run(JobName=j, RunId=first)["JobRun"]
check(jr.get("CompletedOn"), "CompletedOn missing")
done()
