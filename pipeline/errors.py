"""Operational failures: what the operator sees when a run cannot do its job.

``pipeline.models.NewsflowError`` is for bad *input* (a feed, an entry, a page): it becomes
a counted reject and the run goes on, exit 0.  The classes here are for the run itself:
bad configuration, a service that is down, a stage that could not finish.  Each carries a
one-line ``what``, a ``hint`` saying how to fix it, and the process exit code the CLI
returns, so ``newsflow`` prints ``newsflow: error: <what> (<hint>)`` and nothing else
(``-v`` adds the traceback).  Messages must never carry a secret: build them from
:func:`pipeline.redact.redact_url` or let :func:`describe` redact them.

Exit codes (documented in README.md and docs/operations.md):

====  ==========================================================================
0     the pass completed (rejected feeds and pages are counted, not failures)
1     a check found a problem (pending migrations, quarantined lake files)
2     usage or configuration error (bad option, setting, TOML, registry file)
3     a service is unreachable (warehouse, object store)
4     a stage could not finish (a batch failed to load, a file is unreadable,
      the disk is full); what was committed stays committed, the next run resumes
5     an unexpected internal error (a bug: please report it with ``-v`` output)
====  ==========================================================================
"""

from __future__ import annotations

import errno

EXIT_OK = 0
EXIT_CHECK = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3
EXIT_INCOMPLETE = 4
EXIT_INTERNAL = 5


class Failure(Exception):
    """Base of the run's own errors: a message, a hint and an exit code."""

    exit_code = EXIT_INCOMPLETE
    default_hint = ""

    def __init__(self, what: str, hint: str | None = None):
        super().__init__(what)
        self.what = what
        self.hint = self.default_hint if hint is None else hint

    def __str__(self) -> str:
        return self.what


class ConfigError(Failure, ValueError):
    """A setting, option or file the operator wrote is wrong; names the key and what is allowed."""

    exit_code = EXIT_USAGE


class ServiceUnavailable(Failure):
    """A service the run needs (warehouse, object store) did not answer, after retries."""

    exit_code = EXIT_UNAVAILABLE


class StageIncomplete(Failure):
    """A stage could not finish its work; what it committed stays, the next run resumes."""

    exit_code = EXIT_INCOMPLETE


def describe(exc: BaseException) -> tuple[str, str, int]:
    """(what, hint, exit code) for any exception the CLI catches, redacted."""
    from pipeline.redact import redact

    what, hint, code = _classify(exc)
    return redact(what), redact(hint), code


def _classify(exc: BaseException) -> tuple[str, str, int]:
    if isinstance(exc, Failure):
        return exc.what, exc.hint, exc.exit_code
    name = type(exc).__name__
    module = type(exc).__module__ or ""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        where = f" writing {exc.filename}" if exc.filename else ""
        return (f"disk full{where}", "free space and run again: nothing committed is lost, "
                "feeds are re-read because their state is saved only after a batch commits", EXIT_INCOMPLETE)
    if module.startswith(("botocore", "boto3")):
        return _classify_s3(exc)
    if module.startswith("psycopg"):
        return (f"PostgreSQL: {_first_line(exc)}", "check NEWSFLOW_WAREHOUSE and that the server is up",
                EXIT_UNAVAILABLE)
    if isinstance(exc, FileNotFoundError):
        return f"file not found: {exc.filename or exc}", "check the path", EXIT_USAGE
    if isinstance(exc, PermissionError):
        return f"permission denied: {exc.filename or exc}", "check the file's owner and mode", EXIT_USAGE
    return (f"unexpected {name}: {_first_line(exc)}", "a bug: run again with -v and report the traceback",
            EXIT_INTERNAL)


def _classify_s3(exc: BaseException) -> tuple[str, str, int]:
    name = type(exc).__name__
    if name in ("NoCredentialsError", "PartialCredentialsError"):
        return ("object store: no S3 credentials found",
                "set NEWSFLOW_AWS_ACCESS_KEY_ID and NEWSFLOW_AWS_SECRET_ACCESS_KEY, or AWS_* variables, "
                "or an AWS profile", EXIT_USAGE)
    if name in ("EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError", "ConnectionClosedError"):
        return (f"object store unreachable: {_first_line(exc)}",
                "check NEWSFLOW_S3_ENDPOINT_URL (unset means AWS itself) and that the store is up; "
                "the run retried and stopped; committed batches are safe", EXIT_UNAVAILABLE)
    if name == "ClientError":
        err = getattr(exc, "response", {}).get("Error", {})
        code = err.get("Code", "?")
        if code in ("NoSuchBucket",):
            return (f"object store: bucket does not exist ({err.get('BucketName') or ''})".replace(" ()", ""),
                    "create the bucket or fix NEWSFLOW_LAKE", EXIT_USAGE)
        if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403"):
            return (f"object store refused the credentials ({code})",
                    "check the S3 access key and secret, and the bucket policy", EXIT_USAGE)
        return f"object store error {code}: {err.get('Message', '')}".rstrip(": "), \
            "check the object store", EXIT_UNAVAILABLE
    return f"object store: {_first_line(exc)}", "check NEWSFLOW_LAKE and NEWSFLOW_S3_ENDPOINT_URL", EXIT_UNAVAILABLE


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
