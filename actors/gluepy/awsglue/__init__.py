# sfnd's own awsglue package: the parts of AWS Glue's Python library that run without
# Spark (awsglue.utils.getResolvedOptions) and the blueprint classes (awsglue.blueprint).
# Written for sfnd from the documented behaviour; not a copy of AWS's library.
