"""Integrity of committed lake files: recorded at commit, verified on read, quarantined.

Every file a batch commits is recorded with its size, row count and SHA-256 in the place
the lake records its commits (today the batch manifest's ``files`` entries; the file
entries of a table format later): :func:`file_entry` builds that record, whoever writes
it.  Readers verify what they read against it (:func:`verify`), so a truncated or
overwritten file is caught as such, named with its batch, instead of surfacing as a
pyarrow error from deep inside a stage.

A file that fails is **quarantined**: the batch's commit record is marked with the file
and the problem (:func:`quarantine`).  Readers skip a quarantined batch
(``pipeline.lake.batches.list_batches`` / ``read_manifest`` hide it), so every other
batch proceeds and every later run works; derived zones (dedup index and edges) are then
recomputed, and an articles batch stays out of dedup and the warehouse until its file is
restored (``newsflow lake check`` then releases it) or its entries are ingested again.
Only this module and ``batches`` know where the records live.
"""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.errors import StageIncomplete

log = logging.getLogger(__name__)
# Files this process quarantined: ``newsflow run`` reports them and exits 4 (the next runs,
# which simply skip the batch, exit 0 and mention it in their summary).
QUARANTINED_HERE: list[tuple[str, str, str, str]] = []  # (kind, batch_id, key, problem)


class CorruptFile(StageIncomplete):
    """A committed file could not be read as committed; its batch is now quarantined."""

    def __init__(self, kind: str, batch_id: str, key: str, problem: str):
        super().__init__(
            f"lake file {key} of {kind} batch {batch_id} is unreadable ({problem}); batch quarantined",
            "the other batches go on; restore the file and run `newsflow lake check`, or ingest "
            "the entries again (`newsflow replay --since DAY` or `newsflow run --force`)")
        self.kind, self.batch_id, self.key, self.problem = kind, batch_id, key, problem


def file_entry(key: str, data: bytes, rows: int) -> dict:
    """The commit record of one file: key, rows, bytes, sha256."""
    return {"key": key, "rows": rows, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def verify(entry: dict, data: bytes) -> str | None:
    """What is wrong with ``data`` against its record ``entry`` (None: it matches).

    Files committed before issue 13 have no size or checksum: only parsing checks them.
    """
    size = entry.get("bytes")
    if size is not None and len(data) != size:
        if len(data) < size:
            return f"truncated: {len(data)} of {size} bytes"
        return f"size {len(data)} bytes, committed {size}"
    digest = entry.get("sha256")
    if digest is not None and hashlib.sha256(data).hexdigest() != digest:
        return "checksum mismatch"
    return None


def parse(entry: dict, data: bytes) -> pa.Table:
    """Verify ``data`` and parse it as Parquet; :class:`ValueError` with the problem otherwise.

    Read without pyarrow's thread pool: lake files are one day of one batch (small), and a
    short command that exits while that pool winds down aborted about once in 40 runs
    under load ("terminate called without an active exception", seen with
    ``newsflow lake check``).
    """
    problem = verify(entry, data)
    if problem:
        raise ValueError(problem)
    try:
        table = pq.read_table(io.BytesIO(data), use_threads=False)  # see the docstring
    except (pa.ArrowException, OSError) as exc:
        raise ValueError(f"not readable as Parquet: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    if entry.get("batch_filter") is None and entry.get("rows") is not None and table.num_rows != entry["rows"]:
        raise ValueError(f"{table.num_rows} rows, committed {entry['rows']}")
    return table


@dataclass(frozen=True)
class FileCheck:
    kind: str
    batch_id: str
    key: str
    problem: str | None  # None: the file is fine
    was_quarantined: bool


def quarantine(store, manifest, key: str, problem: str) -> None:
    """Mark ``manifest``'s batch quarantined because of ``key`` (idempotent)."""
    from pipeline.lake.batches import read_manifest, rewrite_manifest

    current = read_manifest(store, manifest.kind, manifest.batch_id, include_quarantined=True) or manifest
    marks = [q for q in current.quarantine if q["key"] != key] + [{"key": key, "problem": problem}]
    rewrite_manifest(store, current, quarantine=sorted(marks, key=lambda q: q["key"]))
    QUARANTINED_HERE.append((manifest.kind, manifest.batch_id, key, problem))
    log.error("lake: file %s of %s batch %s is unreadable (%s); batch quarantined", key,
              manifest.kind, manifest.batch_id, problem)


def quarantined(store, kinds: list[str] | None = None) -> list:
    """Manifests of the quarantined batches (of ``kinds``)."""
    from pipeline.lake.batches import all_manifests

    return [m for m in all_manifests(store, kinds) if m.quarantine]


def check_lake(store, kinds: list[str] | None = None, *, release: bool = True) -> list[FileCheck]:
    """Verify every committed file of every batch (of ``kinds``); quarantine bad batches,
    release quarantined ones whose files all verify again (restored)."""
    from pipeline.lake.batches import all_manifests, rewrite_manifest

    out: list[FileCheck] = []
    for m in all_manifests(store, kinds):
        was = {q["key"] for q in m.quarantine}
        problems: dict[str, str] = {}
        for f in m.files:
            problem = None
            try:
                parse(f, store.get(f["key"]))
            except FileNotFoundError:
                problem = "missing"
            except ValueError as exc:
                problem = str(exc)
            if problem:
                problems[f["key"]] = problem
            out.append(FileCheck(m.kind, m.batch_id, f["key"], problem, f["key"] in was))
        if problems:
            for key, problem in problems.items():
                if key not in was:
                    quarantine(store, m, key, problem)
        elif was and release:
            rewrite_manifest(store, m, quarantine=[])
            log.warning("lake: %s batch %s verifies again; released from quarantine", m.kind, m.batch_id)
    return out
