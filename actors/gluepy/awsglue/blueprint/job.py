"""awsglue.blueprint.job: the Job entity of a blueprint layout."""

from enum import Enum

from .base_resource import BaseResource, ensure_type

__all__ = ["Job", "Command", "CommandName", "WorkerType", "ExecutionProperty"]


class CommandName(Enum):
    GLUE_ETL = "glueetl"
    PYTHON_SHELL = "pythonshell"
    GLUE_STREAMING = "gluestreaming"
    GLUE_RAY = "glueray"

    @staticmethod
    def has_value(item):
        return any(item == m.value for m in CommandName)


class WorkerType(Enum):
    STANDARD = "Standard"
    G1_X = "G.1X"
    G2_X = "G.2X"
    G025_X = "G.025X"
    G4_X = "G.4X"
    G8_X = "G.8X"
    Z2_X = "Z.2X"

    @staticmethod
    def has_value(item):
        return any(item == m.value for m in WorkerType)


class Command(BaseResource):
    _fields = {
        "Name": (str, True),
        "ScriptLocation": (str, True),
        "PythonVersion": (str, False),
        "Runtime": (str, False),
    }

    def _check(self, key, value):
        if key == "Name" and not CommandName.has_value(value):
            raise TypeError("{} is not a valid value for key {} in Command".format(value, key))


class ExecutionProperty(BaseResource):
    _fields = {"MaxConcurrentRuns": (int, False)}


class Job(BaseResource):
    """A Glue job. DependsOn maps Job/Crawler objects to the state that starts this job;
    WaitForDependencies is "AND" or "ANY" when there are several."""

    _fields = {
        "Name": (str, True),
        "Description": (str, False),
        "LogUri": (str, False),
        "Role": (str, True),
        "ExecutionProperty": (dict, False),
        "Command": (dict, True),
        "DefaultArguments": (dict, False),
        "NonOverridableArguments": (dict, False),
        "Connections": (dict, False),
        "MaxRetries": (int, False),
        "AllocatedCapacity": (int, False),
        "Timeout": (int, False),
        "MaxCapacity": ((int, float), False),
        "SecurityConfiguration": (str, False),
        "Tags": (dict, False),
        "NotificationProperty": (dict, False),
        "GlueVersion": (str, False),
        "NumberOfWorkers": (int, False),
        "WorkerType": (str, False),
        "ExecutionClass": (str, False),
        "JobRunQueuingEnabled": (bool, False),
        "DependsOn": (dict, False),
        "WaitForDependencies": (str, False),
    }

    def __init__(self, **kwargs):
        # AWS's library reads the description from a lower-case keyword; accept both.
        if "Description" not in kwargs and "description" in kwargs:
            kwargs["Description"] = kwargs["description"]
        super().__init__(**kwargs)

    def _check(self, key, value):
        if key == "Command":
            Command(**value).validate()
        elif key == "ExecutionProperty":
            ExecutionProperty(**value).validate()
        elif key == "WorkerType" and not WorkerType.has_value(value):
            raise TypeError("{} is not a valid value for worker type".format(value))
        elif key == "WaitForDependencies" and value not in ("AND", "ANY"):
            raise TypeError("WaitForDependencies must be AND or ANY, not {}".format(value))
