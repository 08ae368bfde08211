"""A native pyarrow filesystem for reading a lake table's files (``tables.dataset``, the
pyarrow recipe in ``engines``)."""

from __future__ import annotations

from pyarrow import fs as pa_fs


def arrow_filesystem(uri: str, opts: dict[str, str] | None) -> pa_fs.FileSystem:
    """A native pyarrow filesystem rooted at the table at ``uri`` (a folder, or ``s3://``
    with ``opts``, the delta-rs storage options ``tables.storage_options`` gives).

    Why not deltalake's default: without one, ``to_pyarrow_dataset`` wraps delta-rs' own
    storage handler in a ``PyFileSystem``, and that handler's Rust runtime and Arrow's
    reader threads race at interpreter exit: about one process in ten that had read a
    table through it aborted after finishing its work ("terminate called without an
    active exception", exit 134; delta-rs#2184, polars#24169).  pyarrow's own local and S3
    filesystems have no such runtime."""
    if opts is None:
        return pa_fs.SubTreeFileSystem(uri, pa_fs.LocalFileSystem())
    endpoint = opts.get("AWS_ENDPOINT_URL", "")
    s3 = pa_fs.S3FileSystem(
        access_key=opts["AWS_ACCESS_KEY_ID"], secret_key=opts["AWS_SECRET_ACCESS_KEY"],
        session_token=opts.get("AWS_SESSION_TOKEN"), region=opts.get("AWS_REGION", "us-east-1"),
        endpoint_override=endpoint.split("://", 1)[-1].rstrip("/") or None,
        scheme="http" if endpoint.startswith("http:") else "https",
        connect_timeout=float(opts["connect_timeout"].rstrip("s")), request_timeout=float(opts["timeout"].rstrip("s")),
        retry_strategy=pa_fs.AwsStandardS3RetryStrategy(max_attempts=int(opts["max_retries"]) + 1))
    return pa_fs.SubTreeFileSystem(uri.split("://", 1)[-1], s3)
