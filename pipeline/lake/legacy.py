"""``newsflow lake migrate``: convert a pre-Delta lake (our own batches and manifests) to tables.

The old format, read here and nowhere else: ``_manifests/<kind>/<batch>.json`` lists a
batch's Parquet files (``<kind>/dt=YYYY-MM-DD/<batch>.parquet``, or shared compacted files
read through ``batch_filter``), ``dedup/LATEST`` names the current dedup generation, and
article files of schema version 1 are upgraded in memory.  Migration writes every batch
into its Delta table with its id and meta (generations oldest first, so the current one is
the tables' latest version and the older ones stay reachable by time travel), rewrites
each dedup index object with its fingerprint, checks every batch's row count in the new
tables, and only then deletes the old manifests and files (``keep_legacy`` keeps them).
A rerun is idempotent: batches are replaced, not added.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.lake import dedup_zone, tables
from pipeline.lake.batches import list_batches, write_batch
from pipeline.lake.schema import ARTICLE_SCHEMA, check_version, with_version
from pipeline.lake.store import ObjectStore

MANIFESTS = "_manifests"
LATEST = "dedup/LATEST"
GENERATIONS = ("dedup-assignments", "dedup-edges", "dedup-aliases")


@dataclass
class MigrationReport:
    batches: dict[str, int] = field(default_factory=dict)  # kind -> batches migrated
    rows: dict[str, int] = field(default_factory=dict)
    index_batches: int = 0
    problems: list[str] = field(default_factory=list)
    deleted: int = 0


def upgrade(table: pa.Table, kind: str) -> pa.Table:
    """An old article table as the current schema (version 2 added ``published_at_inferred``,
    derived for version-1 rows from ``published_at_source == "fetched"``, ``section`` and
    ``site_name``)."""
    check_version(table.schema)
    if kind != "articles":
        return table
    n = table.num_rows
    cols = {}
    for f in ARTICLE_SCHEMA:
        if f.name in table.column_names:
            cols[f.name] = table[f.name].cast(f.type)
        elif f.name == "published_at_inferred" and "published_at_source" in table.column_names:
            cols[f.name] = pc.equal(table["published_at_source"], "fetched").fill_null(False)
        else:
            cols[f.name] = pa.nulls(n, f.type)
    return pa.Table.from_pydict(cols, schema=with_version(ARTICLE_SCHEMA, "articles"))


def legacy_manifests(store: ObjectStore) -> dict[str, list[dict]]:
    """kind -> manifests (dicts) of the old format, oldest batch first."""
    out: dict[str, list[dict]] = {}
    for key in store.list(f"{MANIFESTS}/"):
        parts = key.split("/")
        if len(parts) == 3 and key.endswith(".json"):
            out.setdefault(parts[1], []).append(json.loads(store.get(key)))
    return {k: sorted(v, key=lambda m: m["batch_id"]) for k, v in out.items()}


def read_legacy_batch(store: ObjectStore, manifest: dict) -> pa.Table:
    """One old batch's rows at the current schema (``ValueError`` naming a bad file)."""
    parts = []
    for f in manifest["files"]:
        try:
            t = pq.read_table(io.BytesIO(store.get(f["key"])), use_threads=False)
        except FileNotFoundError:
            raise ValueError(f"{f['key']}: missing") from None
        except (pa.ArrowException, OSError) as exc:
            raise ValueError(f"{f['key']}: not readable as Parquet ({str(exc)[:120]})") from None
        t = upgrade(t, manifest["kind"])
        if f.get("batch_filter"):
            t = t.filter(pc.equal(t["batch_id"], f["batch_filter"]))
        parts.append(t)
    if not parts:
        raise ValueError(f"batch {manifest['batch_id']} lists no files")
    return pa.concat_tables(parts) if len(parts) > 1 else parts[0]


def is_legacy(store: ObjectStore) -> bool:
    return store.exists(LATEST) or bool(legacy_manifests(store))


def migrate(store: ObjectStore, *, keep_legacy: bool = False,
            publish_related: Callable[[ObjectStore], tuple[int, int] | None] | None = None) -> MigrationReport:
    """Convert every old batch; delete the old objects once every batch checks out."""
    report = MigrationReport()
    found = legacy_manifests(store)
    latest = store.get(LATEST).decode().strip() if store.exists(LATEST) else None
    for kind, manifests in sorted(found.items()):
        if kind == dedup_zone.INDEX:
            for m in manifests:
                _migrate_index(store, m, report)
            continue
        if kind not in tables.KINDS:
            report.problems.append(f"unknown kind {kind!r}: left as it is")
            continue
        if kind in GENERATIONS:  # the current generation last: it must be the latest version
            manifests = sorted(manifests, key=lambda m: (m["batch_id"] == latest, m["batch_id"]))
        for m in manifests:
            try:
                table = read_legacy_batch(store, m)
            except ValueError as exc:
                report.problems.append(f"{kind} batch {m['batch_id']}: {exc}")
                continue
            write_batch(store, kind, m["batch_id"], table.replace_schema_metadata(None), meta=m.get("meta") or {})
            report.batches[kind] = report.batches.get(kind, 0) + 1
            report.rows[kind] = report.rows.get(kind, 0) + table.num_rows
    if publish_related is not None:  # the related stage's lists, as its own table (storage never imports it)
        published = publish_related(store)
        if published:
            report.batches["related-lists"], report.rows["related-lists"] = published
    report.problems += _verify(store, found, latest)
    if not report.problems and not keep_legacy:
        report.deleted = _delete_legacy(store, found)
    return report


def _migrate_index(store: ObjectStore, m: dict, report: MigrationReport) -> None:
    try:
        parts = [pq.read_table(io.BytesIO(store.get(f["key"])), use_threads=False) for f in m["files"]]
    except (FileNotFoundError, pa.ArrowException, OSError) as exc:
        # a derived cache: the dedup stage recomputes a missing index from the articles
        report.problems.append(f"dedup-index batch {m['batch_id']}: {str(exc)[:120]} (will be recomputed)")
        return
    table = pa.concat_tables(parts, promote_options="default") if len(parts) > 1 else parts[0]
    meta = {**(table.schema.metadata or {}), b"newsflow.meta": json.dumps(m.get("meta") or {}).encode()}
    buf = io.BytesIO()
    pq.write_table(table.replace_schema_metadata(meta), buf, compression="zstd")
    store.put(dedup_zone.index_key(m["batch_id"]), buf.getvalue())
    report.index_batches += 1


def _verify(store: ObjectStore, found: dict[str, list[dict]], latest: str | None) -> list[str]:
    problems = []
    for kind, manifests in found.items():
        if kind == dedup_zone.INDEX or kind not in tables.KINDS:
            continue
        if kind in GENERATIONS:
            now = tables.latest_batch_id(store, kind)
            if latest and any(m["batch_id"] == latest for m in manifests) and now != latest:
                problems.append(f"{kind}: current generation {now}, expected {latest}")
            continue
        have = {b.batch_id: b.rows for b in list_batches(store, kind)}
        for m in manifests:
            if have.get(m["batch_id"]) != m["rows"]:
                problems.append(f"{kind} batch {m['batch_id']}: {have.get(m['batch_id'])} rows in the table, "
                                f"{m['rows']} in the old manifest")
    return problems


def _delete_legacy(store: ObjectStore, found: dict[str, list[dict]]) -> int:
    keep = {dedup_zone.index_key(m["batch_id"]) for m in found.get(dedup_zone.INDEX, [])}
    keys = {f["key"] for ms in found.values() for m in ms for f in m["files"]} - keep
    keys |= {f"{MANIFESTS}/{m['kind']}/{m['batch_id']}.json" for ms in found.values() for m in ms}
    if store.exists(LATEST):
        keys.add(LATEST)
    for key in sorted(keys):
        store.delete(key)
    return len(keys)
