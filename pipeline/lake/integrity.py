"""Integrity of the lake tables' data files: verified on read failure and by ``lake check``.

Delta records every data file's size and row count in its log (the add action); what it
cannot do is read a file that was truncated or overwritten behind its back.  When a read
of a table fails, :func:`guarded_read` verifies the current version's files against the
log (:func:`verify_file`: size, Parquet footer, rows), **quarantines** the bad ones and
reads again without them, so one bad file never stops a run; the failure is named with
file and batch (:class:`CorruptFile`).

A quarantine record lives at ``_quarantine/<table>.json``: the file, the problem and the
batches the file holds (from the log's ``batch_id`` statistics).  Readers leave out the
file and every row of those batches (a batch is seen whole or not at all), so an articles
batch stays out of dedup and the warehouse until its file is restored (``newsflow lake
check`` then releases it) or its entries are ingested again (the rewrite of the batch
removes the bad file from the table, :func:`pipeline.lake.batches.write_batch`).
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.errors import StageIncomplete
from pipeline.lake import tables
from pipeline.lake.store import ObjectStore

log = logging.getLogger(__name__)
QUARANTINE = "_quarantine"
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


def _qkey(kind: str) -> str:
    return f"{QUARANTINE}/{tables.table_name(kind)}.json"


def records(store: ObjectStore, kind: str) -> list[dict]:
    """Quarantine records of ``kind``: ``[{"path", "problem", "batches"}]``."""
    key = _qkey(kind)
    return json.loads(store.get(key)) if store.exists(key) else []


def _save(store: ObjectStore, kind: str, recs: list[dict]) -> None:
    if recs:
        store.put(_qkey(kind), json.dumps(sorted(recs, key=lambda r: r["path"]), indent=1).encode())
    else:
        store.delete(_qkey(kind))


def skipped(store: ObjectStore, kind: str) -> tuple[set[str], set[str]]:
    """(files, batches) readers leave out."""
    recs = records(store, kind)
    return {r["path"] for r in recs}, {b for r in recs for b in r["batches"]}


def file_key(kind: str, path: str) -> str:
    return f"{tables.table_key(kind)}/{path}"


def verify_file(store: ObjectStore, kind: str, entry: dict) -> str | None:
    """What is wrong with one data file against the log (None: it matches).

    Read without pyarrow's thread pool: a short command that exits while that pool winds
    down aborted about once in 40 runs under load (seen with ``newsflow lake check``).
    """
    try:
        data = store.get(file_key(kind, entry["path"]))
    except FileNotFoundError:
        return "missing"
    size = entry.get("size_bytes")
    if size is not None and len(data) != size:
        return f"truncated: {len(data)} of {size} bytes" if len(data) < size else \
            f"size {len(data)} bytes, committed {size}"
    try:
        n = pq.read_metadata(io.BytesIO(data)).num_rows
        pq.read_table(io.BytesIO(data), use_threads=False)
    except (pa.ArrowException, OSError) as exc:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return f"not readable as Parquet: {text}"
    if entry.get("num_records") is not None and n != entry["num_records"]:
        return f"{n} rows, committed {entry['num_records']}"
    return None


def _batches_of(entry: dict) -> list[str]:
    return sorted({b for b in (entry.get("min"), entry.get("max")) if b})


def quarantine(store: ObjectStore, kind: str, entry: dict, problem: str) -> CorruptFile:
    """Record ``entry``'s file as bad (idempotent); the error naming file and batch."""
    recs = [r for r in records(store, kind) if r["path"] != entry["path"]]
    batches = _batches_of(entry)
    recs.append({"path": entry["path"], "problem": problem, "batches": batches})
    _save(store, kind, recs)
    key = file_key(kind, entry["path"])
    batch = ",".join(batches) or "?"
    QUARANTINED_HERE.append((kind, batch, key, problem))
    log.error("lake: file %s of %s batch %s is unreadable (%s); batch quarantined", key, kind, batch, problem)
    return CorruptFile(kind, batch, key, problem)


def release(store: ObjectStore, kind: str, batch_ids: set[str]) -> None:
    """Drop the quarantine records holding ``batch_ids`` (their rows were rewritten)."""
    recs = records(store, kind)
    keep = [r for r in recs if not set(r["batches"]) & batch_ids]
    if len(keep) != len(recs):
        _save(store, kind, keep)


def find_bad(store: ObjectStore, kind: str) -> list[CorruptFile]:
    """Verify the current files not yet quarantined; quarantine and return the bad ones."""
    files, _ = skipped(store, kind)
    out = []
    for entry in tables.files(store, kind):
        if entry["path"] in files:
            continue
        problem = verify_file(store, kind, entry)
        if problem:
            out.append(quarantine(store, kind, entry, problem))
    return out


def guarded_read(store: ObjectStore, kind: str, *, strict: Callable[[set[str]], bool] | None = None,
                 **kw) -> pa.Table | None:
    """``tables.read`` leaving out quarantined files and batches; a read that fails finds
    and quarantines the bad files, then reads again.  ``strict(bad_batches)`` True: raise
    the :class:`CorruptFile` instead (a caller that asked for exactly that batch)."""
    for _ in range(3):
        files, batches = skipped(store, kind)
        try:
            return tables.read(store, kind, skip_files=files, skip_batches=batches, **kw)
        except (pa.ArrowException, OSError) as exc:
            if isinstance(exc, tables.TableError):
                raise
            bad = find_bad(store, kind)
            if not bad:
                raise
            if strict is not None and strict({b for e in bad for b in e.batch_id.split(",")}):
                raise bad[0] from None
    return tables.read(store, kind, skip_files=skipped(store, kind)[0], skip_batches=skipped(store, kind)[1], **kw)


@dataclass(frozen=True)
class FileCheck:
    kind: str
    batch_id: str
    key: str
    problem: str | None  # None: the file is fine
    was_quarantined: bool


@dataclass(frozen=True)
class Quarantined:
    kind: str
    batch_id: str


def quarantined(store: ObjectStore, kinds: list[str] | None = None) -> list[Quarantined]:
    """The quarantined batches (of ``kinds``)."""
    return [Quarantined(k, b) for k in (kinds or tables.KINDS) for r in records(store, k) for b in r["batches"]]


def check_lake(store: ObjectStore, kinds: list[str] | None = None, *, release_ok: bool = True) -> list[FileCheck]:
    """Verify every data file of every table (of ``kinds``) against the Delta log; quarantine
    bad files, release quarantined ones that verify again (restored)."""
    out: list[FileCheck] = []
    for kind in kinds or tables.KINDS:
        recs = {r["path"]: r for r in records(store, kind)}
        bad: set[str] = set()
        for entry in tables.files(store, kind):
            problem = verify_file(store, kind, entry)
            was = entry["path"] in recs
            batch = ",".join(_batches_of(entry)) or "?"
            out.append(FileCheck(kind, batch, file_key(kind, entry["path"]), problem, was))
            if problem:
                bad.add(entry["path"])
                if not was:
                    quarantine(store, kind, entry, problem)
            elif was and release_ok:
                log.warning("lake: %s batch %s verifies again; released from quarantine", kind, batch)
        if recs or bad:
            _save(store, kind, [r for r in records(store, kind)
                                if r["path"] in bad or (not release_ok and r["path"] in recs)])
    return out
