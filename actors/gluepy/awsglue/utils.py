"""Argument parsing for Glue job scripts, as in AWS Glue.

getResolvedOptions(sys.argv, ["NAME", ...]) parses "--NAME value" pairs from argv[1:],
requires every requested name, ignores arguments nobody asked for, and accepts Glue's
reserved arguments (--JOB_ID, --JOB_RUN_ID, --SECURITY_CONFIGURATION, --TempDir,
--RedshiftTempDir, --job-bookmark-option, --job-bookmark-from/--job-bookmark-to,
--continuation-option, --encryption-type) without requiring them.
"""

import argparse

__all__ = ["getResolvedOptions", "GlueArgumentError", "GlueArgumentParser"]

_global_args = {}

_BOOKMARK = ["job-bookmark-enable", "job-bookmark-pause", "job-bookmark-disable"]
_CONTINUATION = ["continuation-enabled", "continuation-readonly", "continuation-ignore"]
_RANGE = ["--job-bookmark-from", "--job-bookmark-to"]
_IDS = ["--JOB_ID", "--JOB_RUN_ID", "--SECURITY_CONFIGURATION"]


class GlueArgumentError(Exception):
    """A required argument is missing or an argument has a bad value."""


class GlueArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser that raises GlueArgumentError instead of exiting."""

    def error(self, message):
        raise GlueArgumentError(message)


def _reserved(name, options, shown=None):
    if name in options:
        raise RuntimeError("Using reserved arguments " + (shown or name))


def getResolvedOptions(args, options):
    """Return a dict of the requested options parsed from args (usually sys.argv)."""
    options = list(options)
    parser = GlueArgumentParser()
    _reserved("job-bookmark-option", options)
    _reserved("continuation-option", options)
    parser.add_argument("--job-bookmark-option", choices=_BOOKMARK, required=False)
    parser.add_argument("--continuation-option", choices=_CONTINUATION, required=False)
    for opt in _RANGE:
        _reserved(opt[2:], options, opt)
        parser.add_argument(opt, required=False)
    for opt in _IDS:
        _reserved(opt[2:], options, opt)
        parser.add_argument(opt, required=False)
    _reserved("encryption-type", options, "--encryption-type")
    parser.add_argument("--encryption-type", choices=["sse-s3"])
    options = [o for o in options if o not in ("RedshiftTempDir", "TempDir")]
    parser.add_argument("--RedshiftTempDir", required=False)
    parser.add_argument("--TempDir", required=False)
    for opt in options:
        parser.add_argument("--" + opt, required=True)

    parsed, _extra = parser.parse_known_args(args[1:])
    result = vars(parsed)

    if result.get("TempDir") is not None:
        result["RedshiftTempDir"] = result["TempDir"]
    elif result.get("RedshiftTempDir") is not None:
        result["TempDir"] = result["RedshiftTempDir"]

    continuation = result.pop("continuation_option", None)
    if result.get("job_bookmark_option") is None:
        if continuation is None:
            result["job_bookmark_option"] = "job-bookmark-disable"
        else:
            result["job_bookmark_option"] = _BOOKMARK[_CONTINUATION.index(continuation)]
    absent = [o for o in _RANGE if result.get(o[2:].replace("-", "_")) is None]
    if result["job_bookmark_option"] == "job-bookmark-pause":
        if len(absent) == 1:
            raise RuntimeError("Missing option or value for " + absent[0])
    elif len(absent) == 0:
        raise RuntimeError("Invalid option(s)" + " ".join(_RANGE))

    _global_args.update(result)
    return result
