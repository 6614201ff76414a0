"""sfnd's implementation of the awsglue.blueprint classes a blueprint layout uses.

Same module layout and behaviour as documented for AWS Glue blueprints:
awsglue.blueprint.workflow (Workflow, Entities), awsglue.blueprint.job (Job) and
awsglue.blueprint.crawler (Crawler). Written for sfnd; not a copy of AWS's library.
"""
