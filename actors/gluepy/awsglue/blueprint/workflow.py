"""awsglue.blueprint.workflow: Workflow and Entities, and the JSON a layout turns into.

Workflow.to_json(name_suffix) returns {"Workflow": {...}, "Crawlers": [...], "Jobs": [...],
"Triggers": [...]}: every job and crawler name gets "_<suffix>"; the start trigger
"<workflow>_starting_trigger" (SCHEDULED on OnSchedule with StartOnCreation, else
ON_DEMAND) starts every entity without DependsOn; each entity with DependsOn gets a
CONDITIONAL trigger "<workflow>_<entity name>_trigger" (StartOnCreation) whose
conditions are its dependencies and whose Logical is its WaitForDependencies.
"""

from .base_resource import BaseResource, ensure_type
from .crawler import Crawler
from .job import Job

__all__ = ["Workflow", "Entities", "Job", "Crawler"]


class Entities(object):
    """The jobs and crawlers of a workflow."""

    def __init__(self, Jobs=None, Crawlers=None, **_ignored):
        self.Jobs = ensure_type("Jobs", Jobs, list) or []
        self.Crawlers = ensure_type("Crawlers", Crawlers, list) or []

    def validate(self):
        for entity in self.Jobs:
            if not isinstance(entity, Job):
                raise TypeError("Entities.Jobs must hold Job objects, found {}".format(type(entity).__name__))
            entity.validate()
        for entity in self.Crawlers:
            if not isinstance(entity, Crawler):
                raise TypeError("Entities.Crawlers must hold Crawler objects, found {}".format(type(entity).__name__))
            entity.validate()
        return True

    def to_json(self, workflow_name, schedule, name_suffix):
        def suffixed(name):
            return "{}_{}".format(name, name_suffix) if name_suffix else name

        starting = {"WorkflowName": workflow_name, "Name": "{}_starting_trigger".format(workflow_name), "Actions": []}
        if schedule:
            starting.update(Type="SCHEDULED", Schedule=schedule, StartOnCreation=True)
        else:
            starting["Type"] = "ON_DEMAND"

        known = set(id(e) for e in self.Jobs) | set(id(e) for e in self.Crawlers)
        out = {"Crawlers": [], "Jobs": []}
        triggers = []
        for kind, entities, action_key in (("Crawlers", self.Crawlers, "CrawlerName"), ("Jobs", self.Jobs, "JobName")):
            for entity in entities:
                body = entity.to_json()
                body["Name"] = suffixed(body["Name"])
                depends = body.pop("DependsOn", None)
                wait = body.pop("WaitForDependencies", None)
                out[kind].append(body)
                if not depends:
                    starting["Actions"].append({action_key: body["Name"]})
                    continue
                conditions = []
                for dep, state in depends.items():
                    if isinstance(dep, Crawler):
                        conditions.append({"LogicalOperator": "EQUALS", "CrawlerName": suffixed(dep.Name), "CrawlState": state})
                    elif isinstance(dep, Job):
                        conditions.append({"LogicalOperator": "EQUALS", "JobName": suffixed(dep.Name), "State": state})
                    else:
                        raise TypeError("Dependencies must be of type Job or Crawler, but found {} instead".format(type(dep)))
                    if id(dep) not in known:
                        raise TypeError("{} depends on {}, which is not among the workflow's Entities".format(entity.Name, dep.Name))
                trigger = {
                    "WorkflowName": workflow_name,
                    "Type": "CONDITIONAL",
                    "Name": "{}_{}_trigger".format(workflow_name, body["Name"]),
                    "Predicate": {"Conditions": conditions},
                    "StartOnCreation": True,
                    "Actions": [{action_key: body["Name"]}],
                }
                if wait:
                    trigger["Predicate"]["Logical"] = wait
                triggers.append(trigger)
        triggers.append(starting)
        return out["Crawlers"], out["Jobs"], triggers


class Workflow(BaseResource):
    """A Glue workflow built from Entities; OnSchedule makes its start trigger SCHEDULED."""

    _fields = {
        "Name": (str, True),
        "Description": (str, False),
        "DefaultRunProperties": (dict, False),
        "Tags": (dict, False),
        "OnSchedule": (str, False),
        "MaxConcurrentRuns": (int, False),
        "Entities": (Entities, True),
    }

    def validate(self):
        super().validate()
        return self.Entities.validate()

    def to_json(self, name_suffix=""):
        self.validate()
        result = {"Workflow": {k: v for k, v in self.__dict__.items() if k in self._fields and k not in ("Entities", "OnSchedule")}}
        result["Crawlers"], result["Jobs"], result["Triggers"] = self.Entities.to_json(
            self.Name, self.__dict__.get("OnSchedule", ""), name_suffix)
        return result
