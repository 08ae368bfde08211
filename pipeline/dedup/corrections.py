"""Editors correct the machine: "not a copy" (split) and "same story" (join).

A correction is a constraint between articles, not an edit of one generation's output,
so it wins over every later recomputation of dedup (new batches, new rules, new code):

* ``split``: the article is not a copy of the members its story had when the editor
  looked (``others``): no edge may join it to them (*cannot-link*).  Edges between them
  are dropped before clustering, and if the article still lands in a story with one of
  them through other copies, its edges into that story are cut too;
* ``join``: the article belongs with ``others`` (the members of the story the editor
  named): *must-link* edges are added, marked ``editor`` in its evidence, of kind
  ``translation`` across languages and ``near`` within one.

Per pair of articles the latest correction (by time, then id) wins, so an editor can
undo a split with a join and the other way round.  Who and when travel with each
correction into the lake (``pipeline.lake.corrections``), the edge evidence and the
warehouse (``story_corrections``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass

from pipeline.models import DedupEdge

ACTIONS = ("split", "join")
Pair = tuple[str, str]


@dataclass(frozen=True)
class Correction:
    correction_id: str
    action: str  # split | join
    article_id: str
    others: tuple[str, ...]  # split: the story's other members then; join: the target
    editor: str
    at: str  # ISO 8601 UTC, when the editor made it
    note: str = ""

    def record(self) -> dict:
        return asdict(self) | {"others": list(self.others)}


def make(action: str, article_id: str, others: Iterable[str], editor: str, at: str, note: str = "") -> Correction:
    """A correction with its content-hash id (the same correction twice is one)."""
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {', '.join(ACTIONS)}")
    others_t = tuple(sorted({o for o in others if o and o != article_id}))
    if not others_t:
        raise ValueError("nothing to split from or join with")
    if not editor.strip():
        raise ValueError("say who makes the correction (editor)")
    body = {"action": action, "article_id": article_id, "others": others_t, "editor": editor.strip(),
            "at": at, "note": note}
    cid = "c_" + hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]
    return Correction(cid, action, article_id, others_t, editor.strip(), at, note)


def from_record(r: Mapping) -> Correction:
    return Correction(r["correction_id"], r["action"], r["article_id"], tuple(r.get("others") or ()),
                      r.get("editor", ""), r.get("at", ""), r.get("note", ""))


def _pair(a: str, b: str) -> Pair:
    return (a, b) if a < b else (b, a)


def constraints(corrections: Iterable[Correction]) -> tuple[dict[Pair, Correction], dict[Pair, Correction]]:
    """(must-link, cannot-link) pairs; per pair the latest correction wins."""
    latest: dict[Pair, Correction] = {}
    for c in sorted(corrections, key=lambda c: (c.at, c.correction_id)):
        for o in c.others:
            latest[_pair(c.article_id, o)] = c
    must = {p: c for p, c in latest.items() if c.action == "join"}
    cannot = {p: c for p, c in latest.items() if c.action == "split"}
    return must, cannot


def digest(corrections: Sequence[Correction]) -> str:
    """Changes whenever the set of corrections does (part of the generation id)."""
    ids = sorted(c.correction_id for c in corrections)
    return hashlib.sha256("\n".join(ids).encode()).hexdigest()[:12] if ids else ""


def apply(edges: Iterable[DedupEdge], corrections: Sequence[Correction], language: Mapping[str, str]) -> list[DedupEdge]:
    """``edges`` without cannot-link pairs, plus one editor edge per must-link pair whose
    articles are both known."""
    must, cannot = constraints(corrections)
    out = {(e.a, e.b, e.kind): e for e in edges if _pair(e.a, e.b) not in cannot}
    for (a, b), c in sorted(must.items()):
        if a in language and b in language:
            kind = "near" if language[a] == language[b] else "translation"
            # replaces a machine edge of the same kind: one row per (a, b, kind)
            out[(a, b, kind)] = DedupEdge(a, b, kind, 1.0, {"editor": c.editor, "at": c.at, "note": c.note,
                                                            "correction_id": c.correction_id,
                                                            "reason": "editor: same story"})
    return list(out.values())


def violated(story_of: Mapping[str, str], corrections: Sequence[Correction]) -> list[Pair]:
    """Cannot-link pairs that still share a story."""
    _, cannot = constraints(corrections)
    return [p for p in sorted(cannot) if p[0] in story_of and story_of.get(p[0]) == story_of.get(p[1])]


def cut(edges: list[DedupEdge], pairs: Sequence[Pair], corrections: Sequence[Correction],
        story_of: Mapping[str, str]) -> list[DedupEdge]:
    """Drop the corrected article's edges into the story it still shares with an article
    it was split from (it reached them through other copies)."""
    by_pair = {c_pair: c for c_pair, c in constraints(corrections)[1].items()}
    drop: set[Pair] = set()
    for p in pairs:
        c = by_pair[p]
        x = c.article_id
        story = story_of[x]
        for e in edges:
            if x in (e.a, e.b) and story_of.get(e.b if e.a == x else e.a) == story and "editor" not in e.evidence:
                drop.add(_pair(e.a, e.b))
    return [e for e in edges if _pair(e.a, e.b) not in drop]


class CorrectionError(ValueError):
    """A correction that cannot be made (unknown article or story): one line for the user."""


def record(store, action: str, article_id: str, target: str | None, editor: str, at: str,
           note: str = "") -> Correction:
    """Resolve a correction against the latest stories in the lake and store it.

    ``split``: ``article_id`` leaves its story (the others are its members now).
    ``join``: ``article_id`` joins the story of ``target`` (a story id, current or
    retired, or an article id): must-link with each of that story's members."""
    from pipeline.lake import corrections as lake_corrections
    from pipeline.lake import dedup_zone

    gen = dedup_zone.read_latest(store)
    if gen is None:
        raise CorrectionError("no stories yet: run dedup first (newsflow run)")
    rows = gen.assignments.to_pydict()
    story_of = dict(zip(rows["article_id"], rows["story_id"], strict=True))
    canonical_of = {s: a for a, s, d in zip(rows["article_id"], rows["story_id"], rows["duplicate_of"],
                                            strict=True) if d is None}
    if article_id not in story_of:
        raise CorrectionError(f"unknown article {article_id}")
    if action == "split":
        others = [a for a, s in story_of.items() if s == story_of[article_id] and a != article_id]
        if not others:
            raise CorrectionError(f"article {article_id} is alone in its story: nothing to split")
    elif action == "join":
        aliases = dict(zip(gen.aliases.column("alias").to_pylist(), gen.aliases.column("story_id").to_pylist(),
                           strict=True)) if gen.aliases.num_rows else {}
        story = story_of.get(target or "") or aliases.get(target or "", target)
        if story not in canonical_of:
            raise CorrectionError(f"unknown story or article {target}")
        if story == story_of[article_id]:
            raise CorrectionError(f"article {article_id} is already in story {story}")
        # every member, so that the join also undoes earlier splits from any of them
        others = [a for a, s in story_of.items() if s == story]
    else:
        raise CorrectionError(f"action must be one of {', '.join(ACTIONS)}")
    try:
        c = make(action, article_id, others, editor, at, note)
    except ValueError as exc:
        raise CorrectionError(str(exc)) from None
    lake_corrections.write(store, c.record())
    return c
