"""Object storage with one behaviour on two backends: a local folder and S3 (boto3).

Keys are ``/``-separated relative paths.  ``put`` is atomic on both stores (a reader sees
the old object or the new one, never half of one): the local store writes a temp file and
renames it; S3 PUTs are atomic by nature.  ``put_if_absent`` keeps the first writer's
object, which the raw zone uses for content-addressed, immutable bodies.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from pipeline.config import Settings
from pipeline.errors import ConfigError, Failure, ServiceUnavailable


class StoreError(Failure):
    """The object store itself failed (not one object): no stage can go on without it."""


class StoreUnavailable(StoreError, ServiceUnavailable):
    """The object store did not answer after botocore's bounded retries."""

    default_hint = ("check that the object store is up and NEWSFLOW_S3_ENDPOINT_URL; committed "
                    "batches are safe and the next run resumes")


class StoreConfigError(StoreError, ConfigError):
    """The object store refused us: credentials, bucket, permissions."""


class ObjectStore(Protocol):
    uri: str

    def put(self, key: str, data: bytes) -> None: ...
    def put_if_absent(self, key: str, data: bytes) -> bool: ...
    def get(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def list(self, prefix: str = "") -> Iterator[str]: ...
    def delete(self, key: str) -> None: ...
    def url_for(self, key: str) -> str: ...


def _check_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"invalid object key {key!r}")
    return key


class LocalStore:
    """A folder on disk.  Used by default (``./data/lake``) and by most tests."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root).resolve()
        self.uri = str(self.root)

    def _path(self, key: str) -> Path:
        return self.root / _check_key(key)

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.name)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def put_if_absent(self, key: str, data: bytes) -> bool:
        path = self._path(key)
        if path.exists():
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.name)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        try:
            os.link(tmp, path)  # atomic create-if-absent
            return True
        except FileExistsError:
            return False
        finally:
            Path(tmp).unlink(missing_ok=True)

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str = "") -> Iterator[str]:
        base = self.root
        if not base.exists():
            return iter(())
        start = base / prefix.rsplit("/", 1)[0] if "/" in prefix else base  # walk only below the prefix
        if not start.is_dir():
            return iter(())
        keys = []
        for dirpath, _dirs, files in os.walk(start):
            for name in files:
                if name.startswith(".tmp-"):
                    continue
                key = Path(dirpath, name).relative_to(base).as_posix()
                if key.startswith(prefix):
                    keys.append(key)
        return iter(sorted(keys))

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def url_for(self, key: str) -> str:
        return str(self._path(key))


_UNREACHABLE = ("EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError",
                "ConnectionClosedError", "ConnectionError", "ProxyConnectionError")
_REFUSED = ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "NoSuchBucket",
            "AllAccessDisabled", "InvalidBucketName", "403")


def _store_errors(fn):
    """Turn botocore's errors into one-line store errors (a missing key stays a
    ``FileNotFoundError``); each request was already retried by botocore."""
    import functools

    @functools.wraps(fn)
    def wrapped(self, *args, **kwargs):
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            NoCredentialsError,
            PartialCredentialsError,
        )

        where = self.endpoint or "AWS S3"
        try:
            return fn(self, *args, **kwargs)
        except (NoCredentialsError, PartialCredentialsError):
            raise StoreConfigError(
                f"object store {where}: no S3 credentials found",
                "set NEWSFLOW_AWS_ACCESS_KEY_ID and NEWSFLOW_AWS_SECRET_ACCESS_KEY, "
                "or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or an AWS profile") from None
        except ClientError as exc:
            err = exc.response.get("Error", {})
            code = str(err.get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
            if code in ("NoSuchKey", "404", "NotFound"):
                raise FileNotFoundError(args[0] if args else code) from None
            if code in _REFUSED:
                raise StoreConfigError(f"object store {where} refused bucket {self.bucket!r}: {code}",
                                       "check the S3 credentials, the bucket name in NEWSFLOW_LAKE "
                                       "and the bucket policy") from None
            if status >= 500 or code in ("SlowDown", "ServiceUnavailable", "InternalError"):
                raise StoreUnavailable(f"object store {where} failed after retries: {code}") from None
            raise
        except BotoCoreError as exc:
            if type(exc).__name__ in _UNREACHABLE:
                raise StoreUnavailable(f"object store {where} unreachable after "
                                       f"{self.max_attempts} attempts per request") from None
            raise StoreUnavailable(f"object store {where}: {type(exc).__name__}: {exc}") from None

    return wrapped


class S3Store:
    """An S3 bucket/prefix through boto3; any S3-compatible server via ``s3_endpoint_url``.

    Credentials come from settings when given, else boto3's standard chain (env, profile,
    instance role).  Nothing secret is ever logged.  Every request is bounded: botocore's
    standard retry mode with ``s3_max_attempts`` tries and ``s3_timeout`` seconds per
    connect/read; then one :class:`StoreUnavailable`, never a traceback per object.
    """

    def __init__(self, uri: str, settings: Settings):
        import boto3
        from botocore.config import Config

        bucket_prefix = uri.removeprefix("s3://")
        self.bucket, _, prefix = bucket_prefix.partition("/")
        self.prefix = prefix.strip("/")
        self.uri = uri.rstrip("/")
        self.endpoint = settings.s3_endpoint_url
        self.max_attempts = settings.s3_max_attempts
        # A session per store: boto3's default session caches the credentials it first
        # resolved, so a rotated key in the environment would otherwise be ignored.
        self.client = boto3.session.Session().client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            region_name=settings.s3_region or "us-east-1",
            aws_access_key_id=settings.aws_access_key_id,
            aws_secret_access_key=settings.aws_secret_access_key,
            config=Config(retries={"max_attempts": settings.s3_max_attempts, "mode": "standard"},
                          connect_timeout=settings.s3_timeout, read_timeout=settings.s3_timeout),
        )
        self._settings = settings
        self._delta_options: dict[str, str] | None = None

    def __repr__(self) -> str:
        return f"S3Store({self.uri!r}, endpoint={self.endpoint!r})"  # never the credentials

    @property
    def delta_options(self) -> dict[str, str]:
        """delta-rs storage options for this bucket (Delta tables, ``pipeline.lake.tables``).

        delta-rs does not use boto3, so the credentials boto3 resolved (settings, env,
        profile, role) are handed over explicitly; the same bounded timeouts apply.
        """
        if self._delta_options is None:
            s = self._settings
            opts = {"AWS_REGION": s.s3_region or "us-east-1",
                    "timeout": f"{int(s.s3_timeout)}s", "connect_timeout": f"{int(s.s3_timeout)}s",
                    # bounded like boto3's retries: delta-rs' default is 10 tries over 180 s
                    "max_retries": str(max(s.s3_max_attempts - 1, 0)),
                    "retry_timeout": f"{int(s.s3_timeout * s.s3_max_attempts)}s"}
            if s.s3_endpoint_url:
                opts["AWS_ENDPOINT_URL"] = s.s3_endpoint_url
                opts["AWS_ALLOW_HTTP"] = "true" if s.s3_endpoint_url.startswith("http:") else "false"
            creds = self.client._request_signer._credentials  # what boto3 resolved, same chain
            if creds is None:
                raise StoreConfigError(
                    f"object store {self.endpoint or 'AWS S3'}: no S3 credentials found",
                    "set NEWSFLOW_AWS_ACCESS_KEY_ID and NEWSFLOW_AWS_SECRET_ACCESS_KEY, "
                    "or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or an AWS profile")
            frozen = creds.get_frozen_credentials()
            opts["AWS_ACCESS_KEY_ID"] = frozen.access_key
            opts["AWS_SECRET_ACCESS_KEY"] = frozen.secret_key
            if frozen.token:
                opts["AWS_SESSION_TOKEN"] = frozen.token
            self._delta_options = opts
        return self._delta_options

    def _key(self, key: str) -> str:
        _check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    @_store_errors
    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)

    @_store_errors
    def put_if_absent(self, key: str, data: bytes) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, IfNoneMatch="*")
            return True
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                return False
            raise

    @_store_errors
    def get(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()

    @_store_errors
    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise

    def list(self, prefix: str = "") -> Iterator[str]:
        return iter(self._list(prefix))  # listed whole, so errors surface here, wrapped

    @_store_errors
    def _list(self, prefix: str) -> list[str]:
        full = (self.prefix + "/" if self.prefix else "") + prefix
        strip = len(self.prefix) + 1 if self.prefix else 0
        paginator = self.client.get_paginator("list_objects_v2")
        return [obj["Key"][strip:] for page in paginator.paginate(Bucket=self.bucket, Prefix=full)
                for obj in page.get("Contents", [])]

    @_store_errors
    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def url_for(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"


def open_store(settings: Settings) -> ObjectStore:
    """The lake store named by ``settings.lake`` (a folder path or ``s3://bucket/prefix``)."""
    if settings.lake.lower().startswith("s3://"):
        return S3Store(settings.lake, settings)
    return LocalStore(settings.lake.removeprefix("file://"))
