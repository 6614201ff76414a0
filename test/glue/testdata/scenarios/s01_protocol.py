# GLUE.md §6.1 Protocol, pagination and tags.
import os, subprocess
from gluetest import *

e = expect_error("EntityNotFoundException", glue.get_workflow, Name=name("nope"))
eq(e.response["ResponseMetadata"]["HTTPStatusCode"], 400, "HTTP status")
check(e.response["ResponseMetadata"].get("RequestId"), "no RequestId")
check(isinstance(e, glue.exceptions.EntityNotFoundException), "not the modelled exception class")

r = glue.delete_workflow(Name=name("nope"))
eq(r["ResponseMetadata"]["HTTPStatusCode"], 200, "delete status")
eq(r["Name"], name("nope"), "delete_workflow Name")

expect_error("ValidationException", glue.list_workflows, MaxResults=26)

# The AWS CLI sees the same error code.
env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION=REGION)
p = subprocess.run(["aws", "glue", "get-workflow", "--name", name("x"), "--endpoint-url", ENDPOINT],
                   capture_output=True, text=True, env=env, timeout=60)
check(p.returncode != 0 and "EntityNotFoundException" in p.stderr, "aws cli: rc=%s stderr=%s", p.returncode, p.stderr)

# 30 workflows: the paginator yields them in pages of at most 25.
wfs = [name("wf%02d" % i) for i in range(30)]
for w in wfs:
    glue.create_workflow(Name=w)
pages = list(glue.get_paginator("list_workflows").paginate())
check(all(len(pg["Workflows"]) <= 25 for pg in pages), "page larger than 25: %s", [len(pg["Workflows"]) for pg in pages])
listed = [w for pg in pages for w in pg["Workflows"]]
check(set(wfs) <= set(listed), "missing workflows: %s", set(wfs) - set(listed))
eq(len(listed), len(set(listed)), "duplicates in pages")

# Tags.
arn = "arn:aws:glue:%s:%s:workflow/%s" % (REGION, ACCOUNT, wfs[0])
glue.tag_resource(ResourceArn=arn, TagsToAdd={"team": "data", "env": "dev"})
eq(glue.get_tags(ResourceArn=arn)["Tags"], {"team": "data", "env": "dev"}, "get_tags")
glue.untag_resource(ResourceArn=arn, TagsToRemove=["env"])
eq(glue.get_tags(ResourceArn=arn)["Tags"], {"team": "data"}, "get_tags after untag")

j1 = create_job(name("tagged"), Tags={"team": "data"})
j2 = create_job(name("untagged"))
got = glue.list_jobs(Tags={"team": "data"})["JobNames"]
check(j1 in got and j2 not in got, "list_jobs(Tags) = %s", got)
done()
