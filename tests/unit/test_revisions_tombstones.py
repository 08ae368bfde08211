"""Issue 19's pure parts: the revision summary and kinds, the entry hash, tombstone
matching (URL variants) and the cutting of a taken-down item out of feed bodies.
All texts are written for these tests."""

from __future__ import annotations

import json

from pipeline.extract.revisions import entry_hash, kind_of, summarize
from pipeline.lake.tombstones import Tombstone, Tombstones, needles_for, redact_feed

URL = "https://news.example/2025/10/01/ferry-fares.html"
STONE = Tombstone("a" * 16, URL, URL, "test", "ops", "2025-10-01T00:00:00+00:00")


def test_summary_counts_sentences_and_names_the_kind():
    old = {"title": "Ferry fares rise", "body_text": "Fares rise by a tenth. The operator blamed fuel."}
    new = {"title": "Ferry fares rise", "body_text": "Fares rise by a tenth. The operator blamed fuel. "
                                                      "Correction: the rise takes effect in May, not April."}
    s = summarize(old, new)
    assert s["changed_fields"] == ["body_text"] and s["sentences_added"] == 1 and s["sentences_removed"] == 0
    assert s["kind"] == "correction" and "+Correction" in s["diff_excerpt"] and 0 < s["similarity"] < 1
    assert kind_of("Fares rise.", "Retraction: this report has been withdrawn.") == "retraction"
    assert kind_of("Fares rise.", "Fares rise sharply.") == "update"


def test_entry_hash_ignores_whitespace_but_not_the_updated_date():
    a = entry_hash("Ferry fares", "<p>Fares rise.</p>", "", "2025-10-01T00:00:00+00:00")
    assert a == entry_hash("Ferry  fares ", "<p>Fares   rise.</p>\n", "", "2025-10-01T00:00:00+00:00")
    assert a != entry_hash("Ferry fares", "<p>Fares rise.</p>", "", "2025-10-02T00:00:00+00:00")


def test_tombstones_match_url_variants_ids_and_hashes():
    stone = Tombstone(**{**STONE.__dict__, "content_hashes": ["h1"]})
    ts = Tombstones([stone])
    assert ts.blocks_url(URL + "?utm_source=newsletter")
    assert ts.blocks(None, "h1") and ts.blocks("a" * 16)
    assert not ts.blocks_url("https://news.example/2025/10/01/other.html")


def test_redact_feed_cuts_only_the_taken_down_item():
    rss = (f"<rss><channel><item><title>Keep</title><link>https://news.example/keep</link></item>"
           f"<item><title>Gone</title><link>{URL}</link><description>Ferry text</description></item>"
           f"</channel></rss>").encode()
    out = redact_feed(rss, needles_for(Tombstones([STONE])))
    assert b"Ferry text" not in out and b"<title>Keep</title>" in out
    atom = f'<feed><entry><title>Gone</title><link href="{URL}"/></entry><entry><title>Keep</title></entry></feed>'
    assert redact_feed(atom.encode(), needles_for(Tombstones([STONE]))) == b"<feed><entry><title>Keep</title></entry></feed>"
    feed = {"version": "https://jsonfeed.org/version/1.1", "items": [{"id": "1", "url": URL, "content_text": "x"},
                                                                     {"id": "2", "url": "https://news.example/k"}]}
    out = json.loads(redact_feed(json.dumps(feed).encode(), needles_for(Tombstones([STONE]))))
    assert [i["id"] for i in out["items"]] == ["2"]
    assert redact_feed(rss, needles_for(Tombstones([]))) == rss
