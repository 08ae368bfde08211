"""The story page's view model (``pipeline.api.story_view``) and the pages' rendering
rules, without a server: marks from stored evidence, shared passages, anchors, the path
through another copy, escaping."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from starlette.requests import Request

from pipeline.api.pages import render, wants_html
from pipeline.api.story_view import (
    Mark,
    direction,
    parse_links,
    paths_from,
    segments,
    shared_anchor_spans,
    shared_sentence_marks,
    story_page,
)

EN = "The port will add four berths. It opened in 2019 in Basra. Shipping agents are pleased."
AR = "سيضيف الميناء أربعة أرصفة. افتتح عام 2019 في البصرة. وكلاء الشحن راضون."


def _member(aid, lang, body, dup_kind=None, published="2025-08-18T05:30:00+00:00", title="t"):
    return {"article_id": aid, "title": title, "url": f"http://x.example/{aid}", "source_domain": f"{aid}.example",
            "language": lang, "published_at": datetime.fromisoformat(published), "body_text": body,
            "duplicate_of": None if dup_kind is None else "a", "dup_kind": dup_kind, "dup_score": 0.9,
            "translator": None, "original_outlet": None, "attribution_text": None, "authors": None}


def _translation_link(a, b, pairs):
    ev = {"in_story": True, "aligned_pairs": pairs}
    return {"a": a, "b": b, "kind": "translation", "score": 1.0, "evidence": json.dumps(ev)}


def test_direction_by_language():
    assert direction("ar") == direction("fa") == direction("ckb") == "rtl"
    assert direction("en") == direction(None) == direction("fr-CA") == "ltr"


def test_segments_cut_text_at_marks_and_flag_anchors():
    text = "abc DEF ghi"
    segs = segments(text, [Mark(4, 7, "p-0")], anchors=[(8, 11)])
    assert [(s.text, s.pair) for s in segs] == [("abc ", None), ("DEF", "p-0"), (" ghi", None)]
    assert segs[2].parts == [(" ", False), ("ghi", True)]
    assert "".join(t for s in segs for t, _ in s.parts) == text


def test_overlapping_or_out_of_range_marks_are_dropped():
    segs = segments("0123456789", [Mark(0, 5, "a"), Mark(3, 7, "b"), Mark(8, 99, "c")])
    assert [s.pair for s in segs if s.pair] == ["a"]


def test_translation_marks_come_from_the_stored_offsets():
    members = [_member("a", "en", EN), _member("b", "ar", AR, "translation")]
    pairs = [{"a": 0, "b": 0, "cosine": 0.8, "a_span": [0, 30], "b_span": [0, 26], "filled": False},
             {"a": 1, "b": 1, "cosine": 0.5, "a_span": [31, 58], "b_span": [27, 50], "filled": True}]
    page = story_page("s_a", members, [_translation_link("a", "b", pairs)])
    cmp = page["copies"][0]["comparison"]
    assert cmp["pairs"] == 2 and cmp["filled"] == 1 and cmp["kind"] == "translation"
    left = [s for s in cmp["left"]["segments"] if s.pair]
    right = [s for s in cmp["right"]["segments"] if s.pair]
    assert [s.text for s in left] == [EN[0:30], EN[31:58]]
    assert [s.text for s in right] == [AR[0:26], AR[27:50]]
    assert [s.pair for s in left] == [s.pair for s in right]
    assert cmp["right"]["dir"] == "rtl" and cmp["left"]["dir"] == "ltr"


def test_near_copy_marks_shared_sentences():
    other = "Breaking: something else first. The port will add four berths. Shipping agents are pleased."
    ma, mb = shared_sentence_marks(EN, other, "p")
    assert len(ma) == len(mb) == 2
    assert [EN[m.start : m.end] for m in ma] == [other[m.start : m.end] for m in mb]


def test_shared_anchors_across_scripts():
    sa, sb = shared_anchor_spans(EN, "en", AR, "ar")
    assert EN[sa[0][0] : sa[0][1]] == "2019" and "2019" in [AR[s:e] for s, e in sb]


def test_a_copy_reached_through_another_copy_shows_the_path():
    links = parse_links([{"a": "a", "b": "b", "kind": "exact", "score": 1.0, "evidence": "{}"},
                         {"a": "b", "b": "c", "kind": "translation", "score": 0.8, "evidence": "{}"}])
    paths = paths_from("a", links)
    assert [(e.a, e.b) for e in paths["c"]] == [("a", "b"), ("b", "c")]
    members = [_member("a", "en", EN), _member("b", "en", EN, "exact"), _member("c", "ar", AR, "translation")]
    page = story_page("s_a", members, [dict(r, evidence="{}") for r in
                                       ({"a": "a", "b": "b", "kind": "exact", "score": 1.0},
                                        {"a": "b", "b": "c", "kind": "translation", "score": 0.8})])
    third = page["copies"][1]
    assert [m["article_id"] for m in third["path"]] == ["a", "b", "c"]
    assert third["comparison"]["left"]["id"] == "b"  # compared with the copy it was matched with


def test_timeline_spans_the_copies():
    members = [_member("a", "en", EN, published="2025-08-18T00:00:00+00:00"),
               _member("b", "ar", AR, "translation", published="2025-08-20T00:00:00+00:00")]
    t = story_page("s_a", members, [])["timeline"]
    xs = [d["x"] for d in t["dots"]]
    assert xs[0] == 12 and xs[1] == t["width"] - 12
    assert t["start"] == datetime(2025, 8, 18, tzinfo=UTC)


def test_untrusted_text_is_escaped():
    evil = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    members = [_member("a", "en", evil + " " + EN, title=evil), _member("b", "ar", AR + evil, "translation", title=evil)]
    html = render("story.html", page=story_page("s_a", members, []), signed_in=False).decode()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def _request(accept: str) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/", "headers": [(b"accept", accept.encode())]})


def test_content_negotiation_prefers_json_unless_html_is_preferred():
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert wants_html(_request(browser))
    assert not wants_html(_request("*/*"))
    assert not wants_html(_request("application/json"))
    assert not wants_html(_request("application/json, text/html;q=0.5"))
    assert not wants_html(_request(""))
