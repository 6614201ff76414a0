# GLUE.md §6.20 Crawler node.
from gluetest import *

def crawler(n, **tags):
    glue.create_crawler(Name=n, Role=ROLE, Targets={"S3Targets": [{"Path": "s3://bucket/data"}]}, Tags=tags)
    return n

for outcome in ("SUCCEEDED", "FAILED"):
    wf = name("wf-" + outcome)
    glue.create_workflow(Name=wf)
    c = crawler(name("C-" + outcome), **{"sfnd:crawl-outcome": outcome, "sfnd:crawl-seconds": "0.5"})
    j1 = create_job(name("J1-" + outcome))
    trigger(name("T0-" + outcome), wf, [{"CrawlerName": c}], typ="ON_DEMAND")
    trigger(name("T1-" + outcome), wf, [{"JobName": j1}], conditions=[{"CrawlerName": c, "CrawlState": "SUCCEEDED"}])
    run = wait_run(wf, glue.start_workflow_run(Name=wf)["RunId"])
    eq(run["Status"], "COMPLETED", "Status")
    eq(node(run, "CRAWLER", c)["CrawlerDetails"]["Crawls"][0]["State"], outcome, "crawl state")
    eq(len(job_runs(j1)), 1 if outcome == "SUCCEEDED" else 0, "J1 runs")
    stats(run, TotalActions=2)
    cr = glue.get_crawler(Name=c)["Crawler"]
    eq(cr["State"], "READY", "crawler state")
    eq(cr["LastCrawl"]["Status"], outcome, "LastCrawl")

c = crawler(name("slow"), **{"sfnd:crawl-seconds": "30"})
expect_error("CrawlerNotRunningException", glue.stop_crawler, Name=c)
glue.start_crawler(Name=c)
wait_for(lambda: glue.get_crawler(Name=c)["Crawler"]["State"] == "RUNNING", "RUNNING")
expect_error("CrawlerRunningException", glue.start_crawler, Name=c)
glue.stop_crawler(Name=c)
wait_for(lambda: glue.get_crawler(Name=c)["Crawler"]["State"] == "READY", "READY after stop", timeout=20)
eq(glue.get_crawler(Name=c)["Crawler"]["LastCrawl"]["Status"], "CANCELLED", "LastCrawl after stop")
done()
