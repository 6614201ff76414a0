"""awsglue.blueprint.crawler: the Crawler entity of a blueprint layout."""

from enum import Enum

from .base_resource import BaseResource, ensure_type

__all__ = [
    "Crawler", "Targets", "S3Target", "JDBCTarget", "CatalogTarget", "DynamoDBTarget",
    "SchemaChangePolicy", "UpdateBehavior", "DeleteBehavior",
]


class UpdateBehavior(Enum):
    LOG = "LOG"
    UPDATE_IN_DATABASE = "UPDATE_IN_DATABASE"

    @staticmethod
    def has_value(item):
        return any(item == m.value for m in UpdateBehavior)


class DeleteBehavior(Enum):
    LOG = "LOG"
    DELETE_FROM_DATABASE = "DELETE_FROM_DATABASE"
    DEPRECATE_IN_DATABASE = "DEPRECATE_IN_DATABASE"

    @staticmethod
    def has_value(item):
        return any(item == m.value for m in DeleteBehavior)


class CatalogTarget(BaseResource):
    _fields = {"DatabaseName": (str, True), "Tables": (list, True)}


class DynamoDBTarget(BaseResource):
    _fields = {"Path": (str, True)}


class S3Target(BaseResource):
    _fields = {"Path": (str, True), "Exclusions": (list, False)}


class JDBCTarget(BaseResource):
    _fields = {"ConnectionName": (str, True), "Path": (str, True), "Exclusions": (list, False)}


class SchemaChangePolicy(BaseResource):
    _fields = {"DeleteBehavior": (str, False), "UpdateBehavior": (str, False)}

    def _check(self, key, value):
        if key == "DeleteBehavior" and not DeleteBehavior.has_value(value):
            raise TypeError("{} is not a valid value for key {} in SchemaChangePolicy".format(value, key))
        if key == "UpdateBehavior" and not UpdateBehavior.has_value(value):
            raise TypeError("{} is not a valid value for key {} in SchemaChangePolicy".format(value, key))


_TARGETS = {
    "S3Targets": S3Target,
    "JDBCTargets": JDBCTarget,
    "JdbcTargets": JDBCTarget,
    "CatalogTargets": CatalogTarget,
    "DynamoDBTargets": DynamoDBTarget,
}


class Targets(BaseResource):
    _fields = {k: (list, False) for k in _TARGETS}
    _fields.update({"MongoDBTargets": (list, False), "DeltaTargets": (list, False),
                    "IcebergTargets": (list, False), "HudiTargets": (list, False)})

    def validate(self):
        for key, cls in _TARGETS.items():
            for target in self.__dict__.get(key) or []:
                cls(**target).validate()
        return True


class Crawler(BaseResource):
    """A Glue crawler. DependsOn and WaitForDependencies as for Job."""

    _fields = {
        "Name": (str, True),
        "Description": (str, False),
        "Role": (str, True),
        "Targets": (dict, True),
        "DatabaseName": (str, False),
        "Classifiers": (list, False),
        "SchemaChangePolicy": (dict, False),
        "RecrawlPolicy": (dict, False),
        "LineageConfiguration": (dict, False),
        "TablePrefix": (str, False),
        "Configuration": (str, False),
        "CrawlerSecurityConfiguration": (str, False),
        "Tags": (dict, False),
        "Schedule": (str, False),
        "DependsOn": (dict, False),
        "WaitForDependencies": (str, False),
    }

    def _check(self, key, value):
        if key == "Targets":
            Targets(**value).validate()
        elif key == "SchemaChangePolicy":
            SchemaChangePolicy(**value).validate()
        elif key == "WaitForDependencies" and value not in ("AND", "ANY"):
            raise TypeError("WaitForDependencies must be AND or ANY, not {}".format(value))
