"""The Arrow schemas of everything newsflow writes to the lake, in one place.

The lake's tables are Delta tables (``pipeline.lake.tables``): a column added here is
added to the table's schema by the next write (schema evolution, no rewrite), and rows
written before read it as null.  ``SCHEMA_VERSION`` still tags the dedup index objects
(``check_version``) and told apart the pre-Delta files ``newsflow lake migrate`` reads
(``pipeline.lake.legacy.upgrade``).

History: 1 = the skeleton's article row.  2 = adds ``published_at_inferred`` (derived
for version-1 rows from ``published_at_source == "fetched"``), ``section`` and
``site_name`` (null for version-1 rows); other kinds are unchanged.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from typing import Any

import pyarrow as pa

from pipeline.models import Anchor, Article, DedupAssignment, DedupEdge

SCHEMA_VERSION = 2
READABLE_VERSIONS = frozenset({1, 2})

_TS = pa.timestamp("us", tz="UTC")
_ANCHOR = pa.struct([("kind", pa.string()), ("value", pa.string()), ("position", pa.int32())])

ARTICLE_SCHEMA = pa.schema(
    [
        ("article_id", pa.string()),
        ("url", pa.string()),
        ("canonical_url", pa.string()),
        ("feed_url", pa.string()),
        ("source_domain", pa.string()),
        ("guid", pa.string()),
        ("title", pa.string()),
        ("summary", pa.string()),
        ("body_text", pa.string()),
        ("language", pa.string()),
        ("language_confidence", pa.float32()),
        ("published_at", _TS),
        ("published_at_source", pa.string()),
        ("published_at_flag", pa.string()),
        ("fetched_at", _TS),
        ("authors", pa.list_(pa.string())),
        ("translator", pa.string()),
        ("original_outlet", pa.string()),
        ("original_domain", pa.string()),
        ("original_url", pa.string()),
        ("attribution_text", pa.string()),
        ("image_url", pa.string()),
        ("tags", pa.list_(pa.string())),
        ("content_hash", pa.string()),
        ("anchors", pa.list_(_ANCHOR)),
        ("batch_id", pa.string()),
        # version 2
        ("published_at_inferred", pa.bool_()),
        ("section", pa.string()),
        ("site_name", pa.string()),
        # issue 19 (revisions): added by Delta schema evolution; older rows read NULL
        ("revision", pa.int32()),
        ("content_fingerprint", pa.string()),
        ("entry_hash", pa.string()),
        ("revision_kind", pa.string()),
        ("revision_diff", pa.string()),
    ]
)

ASSIGNMENT_SCHEMA = pa.schema(
    [
        ("article_id", pa.string()),
        ("story_id", pa.string()),
        ("duplicate_of", pa.string()),
        ("dup_kind", pa.string()),
        ("dup_score", pa.float64()),
    ]
)

EDGE_SCHEMA = pa.schema(
    [
        ("a", pa.string()),
        ("b", pa.string()),
        ("kind", pa.string()),
        ("score", pa.float64()),
        ("evidence", pa.string()),  # JSON
    ]
)


REJECT_SCHEMA = pa.schema(
    [
        ("stage", pa.string()),
        ("url", pa.string()),
        ("reason", pa.string()),
        ("detail", pa.string()),
        ("run_ts", _TS),
    ]
)


def with_version(schema: pa.Schema, kind: str) -> pa.Schema:
    return schema.with_metadata(
        {b"newsflow.schema_version": str(SCHEMA_VERSION).encode(), b"newsflow.kind": kind.encode()}
    )


def file_version(schema: pa.Schema) -> int:
    return int((schema.metadata or {}).get(b"newsflow.schema_version", b"0"))


def check_version(schema: pa.Schema) -> int:
    """The file's schema version; ``ValueError`` when this newsflow cannot read it."""
    version = file_version(schema)
    if version not in READABLE_VERSIONS:
        raise ValueError(
            f"lake file has schema version {version}, this newsflow reads {sorted(READABLE_VERSIONS)}"
        )
    return version


def articles_to_table(articles: list[Article]) -> pa.Table:
    """Column-wise build: ``dataclasses.asdict`` deep-copies every anchor and was 100x slower."""
    names = ARTICLE_SCHEMA.names
    columns: dict[str, list] = {name: [] for name in names}
    for a in articles:
        for name in names:
            columns[name].append(getattr(a, name))
    columns["anchors"] = [
        [{"kind": x.kind, "value": x.value, "position": x.position} if isinstance(x, Anchor) else x for x in anchors]
        for anchors in columns["anchors"]
    ]
    return pa.Table.from_pydict(columns, schema=with_version(ARTICLE_SCHEMA, "articles"))


def table_to_articles(table: pa.Table) -> list[Article]:
    out = []
    for row in table.to_pylist():
        row["anchors"] = [Anchor(**x) for x in row.get("anchors") or []]
        row["authors"] = row.get("authors") or []
        row["tags"] = row.get("tags") or []
        row["published_at_inferred"] = bool(row.get("published_at_inferred"))
        row["revision"] = row.get("revision") or 1
        out.append(Article(**{k: row.get(k) for k in ARTICLE_SCHEMA.names}))
    return out


def assignments_to_table(items: list[DedupAssignment]) -> pa.Table:
    return pa.Table.from_pylist(
        [dataclasses.asdict(x) for x in items], schema=with_version(ASSIGNMENT_SCHEMA, "assignments")
    )


def edges_to_table(edges: list[DedupEdge]) -> pa.Table:
    rows = [
        {"a": e.a, "b": e.b, "kind": e.kind, "score": float(e.score), "evidence": json.dumps(e.evidence, ensure_ascii=False, default=_json_default, sort_keys=True)}
        for e in edges
    ]
    return pa.Table.from_pylist(rows, schema=with_version(EDGE_SCHEMA, "edges"))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)
