"""What a story page shows, computed from warehouse rows: no HTML here, no database.

A story page puts each copy beside the article it was matched with and lights up the
evidence dedup stored for that match:

* translations: every aligned sentence pair, with the character offsets in both bodies
  that ``pipeline.dedup.verify`` recorded (``aligned_pairs``; the weaker gap-filling
  pairs are marked ``filled``);
* near copies: the passages both texts share, sentence by sentence (dedup stores its
  near-copy region in shingles, which do not map back to characters; the same sentence
  splitter and normalisation as dedup find the shared sentences here);
* anchors: numbers, dates and names found in both texts by the extractor dedup uses
  (``pipeline.extract.anchors``).

Each copy is compared with its *partner*: the member next to it on the shortest path of
in-story edges from the canonical.  A copy reached only through another copy shows that
path.  Everything is plain data for the templates, which escape every string.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pipeline.extract.anchors import extract_anchors
from pipeline.extract.textnorm import normalize_for_matching, sentence_spans, sentences

RTL_LANGUAGES = frozenset({"ar", "fa", "ckb", "ur", "he", "ps", "yi", "dv", "sd", "ug"})
_TOKEN = re.compile(r"[\w\u0660-\u0669\u06f0-\u06f9]+(?:[.,\u066b\u066c][\w\u0660-\u0669\u06f0-\u06f9]+)*")


@dataclass
class Link:
    a: str
    b: str
    kind: str
    score: float | None
    evidence: dict[str, Any]

    def other(self, x: str) -> str:
        return self.b if x == self.a else self.a


def parse_links(rows: Sequence[Mapping[str, Any]]) -> list[Link]:
    """Warehouse ``article_links`` rows (evidence as JSON text or already parsed)."""
    out = []
    for r in rows:
        ev = r.get("evidence")
        if isinstance(ev, str):
            try:
                ev = json.loads(ev)
            except ValueError:
                ev = {}
        out.append(Link(r["a"], r["b"], r["kind"], r.get("score"), ev or {}))
    return out


def direction(language: str | None) -> str:
    return "rtl" if (language or "").split("-")[0].lower() in RTL_LANGUAGES else "ltr"


def paths_from(root: str, links: Sequence[Link]) -> dict[str, list[Link]]:
    """Shortest path of in-story edges from ``root`` to every member it reaches (BFS,
    ties broken by edge order, which the SQL fixes)."""
    adj: dict[str, list[Link]] = {}
    for e in links:
        if e.evidence.get("in_story", True):
            adj.setdefault(e.a, []).append(e)
            adj.setdefault(e.b, []).append(e)
    paths: dict[str, list[Link]] = {root: []}
    queue = [root]
    while queue:
        nxt = []
        for x in queue:
            for e in adj.get(x, []):
                y = e.other(x)
                if y not in paths:
                    paths[y] = paths[x] + [e]
                    nxt.append(y)
        queue = nxt
    return paths


# ----------------------------------------------------------------------------- marks


@dataclass
class Mark:
    start: int
    end: int
    pair: str  # the id both sides of a pair share (the hover link)
    filled: bool = False


@dataclass
class Segment:
    text: str
    pair: str | None = None
    filled: bool = False
    parts: list[tuple[str, bool]] = field(default_factory=list)  # (text, is shared anchor)


def aligned_marks(link: Link, prefix: str) -> tuple[list[Mark], list[Mark]]:
    """Marks in ``link.a``'s and ``link.b``'s bodies from the stored aligned pairs."""
    ma, mb = [], []
    for k, p in enumerate(link.evidence.get("aligned_pairs") or []):
        sa, sb = p.get("a_span"), p.get("b_span")
        if not sa or not sb or sa[0] < 0 or sb[0] < 0:
            continue
        pid = f"{prefix}-{k}"
        ma.append(Mark(sa[0], sa[1], pid, bool(p.get("filled"))))
        mb.append(Mark(sb[0], sb[1], pid, bool(p.get("filled"))))
    return ma, mb


def shared_sentence_marks(text_a: str, text_b: str, prefix: str) -> tuple[list[Mark], list[Mark]]:
    """Sentences whose normalised text appears in both bodies (a near copy's shared
    passages), each paired with its first unused occurrence on the other side."""
    sa, sb = sentences(text_a), sentences(text_b)
    spans_a, spans_b = sentence_spans(text_a, sa), sentence_spans(text_b, sb)
    where: dict[str, list[int]] = {}
    for j, s in enumerate(sb):
        key = normalize_for_matching(s)
        if key:
            where.setdefault(key, []).append(j)
    ma, mb = [], []
    for i, s in enumerate(sa):
        hits = where.get(normalize_for_matching(s))
        if not hits or spans_a[i][0] < 0:
            continue
        j = hits.pop(0)
        if spans_b[j][0] < 0:
            continue
        pid = f"{prefix}-{i}"
        ma.append(Mark(*spans_a[i], pid))
        mb.append(Mark(*spans_b[j], pid))
    return ma, mb


def _anchor_spans(text: str, language: str | None) -> dict[tuple[str, str], list[tuple[int, int]]]:
    out: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for a in extract_anchors(text, language or ""):
        m = _TOKEN.match(text, a.position)
        if m:
            out.setdefault((a.kind, a.value), []).append((m.start(), m.end()))
    return out


def shared_anchor_spans(text_a: str, lang_a: str | None, text_b: str, lang_b: str | None
                        ) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Character spans of the anchors (numbers, dates, names) that both texts hold."""
    xa, xb = _anchor_spans(text_a, lang_a), _anchor_spans(text_b, lang_b)
    shared = xa.keys() & xb.keys()
    return (sorted(s for k in shared for s in xa[k]), sorted(s for k in shared for s in xb[k]))


def segments(text: str, marks: Sequence[Mark], anchors: Sequence[tuple[int, int]] = ()) -> list[Segment]:
    """``text`` cut into plain and marked segments (overlapping marks: the first wins),
    each split into parts with the shared anchors flagged."""
    out: list[Segment] = []
    pos = 0
    for m in sorted(marks, key=lambda m: (m.start, m.end)):
        if m.start < pos or m.end > len(text) or m.end <= m.start:
            continue
        if m.start > pos:
            out.append(Segment(text[pos : m.start]))
        out.append(Segment(text[m.start : m.end], m.pair, m.filled))
        pos = m.end
    if pos < len(text):
        out.append(Segment(text[pos:]))
    start = 0
    for seg in out:
        seg.parts = _split_anchors(seg.text, start, anchors)
        start += len(seg.text)
    return out


def _split_anchors(text: str, offset: int, anchors: Sequence[tuple[int, int]]) -> list[tuple[str, bool]]:
    parts: list[tuple[str, bool]] = []
    pos = 0
    for s, e in anchors:
        s, e = s - offset, e - offset
        if e <= 0 or s >= len(text) or s < pos:
            continue
        s, e = max(s, 0), min(e, len(text))
        if s > pos:
            parts.append((text[pos:s], False))
        parts.append((text[s:e], True))
        pos = e
    if pos < len(text) or not parts:
        parts.append((text[pos:], False))
    return parts


# ----------------------------------------------------------------------------- the page


def _side(row: Mapping[str, Any], marks: Sequence[Mark], anchors: Sequence[tuple[int, int]]) -> dict:
    return {"id": row["article_id"], "title": row.get("title") or "", "outlet": row["source_domain"],
            "language": row.get("language") or "", "dir": direction(row.get("language")),
            "url": row.get("url") or "", "segments": segments(row.get("body_text") or "", marks, anchors)}


def comparison(partner: Mapping[str, Any], copy: Mapping[str, Any], link: Link, prefix: str) -> dict:
    """The side-by-side view of ``copy`` and the ``partner`` it was matched with."""
    text_p, text_c = partner.get("body_text") or "", copy.get("body_text") or ""
    if link.kind == "translation" and link.evidence.get("aligned_pairs"):
        ma, mb = aligned_marks(link, prefix)
        mp, mc = (ma, mb) if link.a == partner["article_id"] else (mb, ma)
    else:
        mp, mc = shared_sentence_marks(text_p, text_c, prefix)
    ap, ac = shared_anchor_spans(text_p, partner.get("language"), text_c, copy.get("language"))
    return {"left": _side(partner, mp, ap), "right": _side(copy, mc, ac), "pairs": len(mp),
            "filled": sum(1 for m in mp if m.filled), "kind": link.kind,
            "score": link.score, "anchors": len(ap) + len(ac)}


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def timeline(members: Sequence[Mapping[str, Any]], width: int = 640, height: int = 28) -> dict:
    """Dot positions (x in pixels) of each member's publication time on one axis."""
    times = [(m["article_id"], _when(m.get("published_at"))) for m in members]
    known = [t for _, t in times if t is not None]
    if not known:
        return {"width": width, "height": height, "dots": [], "start": None, "end": None}
    lo, hi = min(known), max(known)
    span = (hi - lo).total_seconds() or 1.0
    pad = 12
    dots = [{"id": aid, "x": round(pad + (width - 2 * pad) * ((t - lo).total_seconds() / span), 1),
             "label": t.strftime("%Y-%m-%d %H:%M")}
            for aid, t in times if t is not None]
    return {"width": width, "height": height, "dots": dots, "start": lo, "end": hi}


def story_page(story_id: str, members: Sequence[Mapping[str, Any]], link_rows: Sequence[Mapping[str, Any]]) -> dict:
    """Everything the story template renders (``members`` canonical first)."""
    links = parse_links(link_rows)
    by_id = {m["article_id"]: m for m in members}
    canonical = members[0]
    paths = paths_from(canonical["article_id"], [e for e in links if e.a in by_id and e.b in by_id])
    copies = []
    for n, m in enumerate(members[1:], start=1):
        path = paths.get(m["article_id"])
        entry = {"row": m, "dir": direction(m.get("language")), "kind": m.get("dup_kind"),
                 "score": m.get("dup_score"), "path": [], "comparison": None}
        if path:
            last = path[-1]
            partner = by_id[last.other(m["article_id"])]
            entry["comparison"] = comparison(partner, m, last, f"p{n}")
            ids = [canonical["article_id"]]
            for e in path:
                ids.append(e.other(ids[-1]))
            entry["path"] = [by_id[i] for i in ids]
        copies.append(entry)
    return {"story_id": story_id, "canonical": canonical, "canonical_dir": direction(canonical.get("language")),
            "copies": copies, "timeline": timeline(members),
            "languages": sorted({m.get("language") or "?" for m in members})}
