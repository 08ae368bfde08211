"""Exact and near-duplicate stages through the public API, on texts we wrote."""

from datetime import UTC, datetime, timedelta

from pipeline.config import Settings
from pipeline.dedup import explain_pair, find_duplicates
from pipeline.models import Article

T0 = datetime(2025, 8, 19, 9, 0, tzinfo=UTC)

STORY = (
    "The harbour authority opened a new container terminal on Tuesday, doubling the port's "
    "capacity to 1,200,000 containers a year. Officials said the project took six years and "
    "cost 850 million dollars, most of it borrowed from regional banks. Dock workers welcomed "
    "the jobs but warned that housing near the port is already scarce and expensive. The "
    "first ship to use the terminal carried grain, fertiliser and spare parts for tractors. "
    "Local traders expect lower prices for imported goods within the next twelve months. "
    "The authority plans a second phase in 2027 if traffic grows as forecast."
)
OTHER = (
    "A regional football club signed a young goalkeeper from the capital on a three year "
    "contract, the club announced on its website. The player, who is nineteen, spent last "
    "season on loan with a second division side where he kept eleven clean sheets. Fans "
    "have complained for months about defensive mistakes and the coach said competition for "
    "places would help. The transfer fee was not disclosed but local media put it near two "
    "hundred thousand euros. The club plays its first league match of the season on Saturday."
)


def art(aid, body, *, lang="en", domain=None, url=None, guid=None, hours=0, **kw) -> Article:
    domain = domain or f"{aid}.example"
    url = url or f"https://{domain}/{aid}"
    return Article(
        article_id=aid, url=url, canonical_url=url, feed_url=f"https://{domain}/feed",
        source_domain=domain, guid=guid or url, title=aid, summary="", body_text=body,
        language=lang, language_confidence=1.0, published_at=T0 + timedelta(hours=hours),
        published_at_source="feed", published_at_flag=None, fetched_at=T0, **kw,
    )


S = Settings()


def test_exact_by_normalized_text_hash():
    copy = STORY.replace("1,200,000", "1200000").replace(" ", "  ").upper()
    r = find_duplicates([art("a", STORY), art("b", copy, hours=2), art("c", OTHER)], S)
    assert [(e.a, e.b, e.kind, e.score) for e in r.edges] == [("a", "b", "exact", 1.0)]
    assert r.edges[0].evidence["reasons"] == ["text_hash"]
    assert r.assignments["b"].duplicate_of == "a"
    assert r.assignments["b"].dup_kind == "exact"
    assert r.assignments["c"].story_id == "s_c" and r.assignments["c"].duplicate_of is None
    assert r.counts == {"exact": 1, "near": 0, "translation": 0, "stories": 2,
                        "multi_article_stories": 1}


def test_exact_by_guid_within_same_source_even_if_short():
    a = art("a", "short", domain="news.example", url="https://news.example/1", guid="g-1")
    b = art("b", "other short", domain="news.example", url="https://news.example/1?amp",
            guid="g-1", hours=1)
    c = art("c", "short", domain="else.example", guid="g-1")  # same guid, other source
    r = find_duplicates([a, b, c], S)
    assert [(e.a, e.b) for e in r.edges] == [("a", "b")]
    assert r.edges[0].evidence == {"reasons": ["guid"], "same_source": True, "in_story": True}


def test_short_texts_never_match_by_content():
    r = find_duplicates([art("a", "Subscribe to our newsletter."),
                         art("b", "Subscribe to our newsletter.")], S)
    assert r.edges == []
    assert r.counts["stories"] == 2


def test_near_duplicate_with_edits_and_boilerplate():
    edited = STORY.replace("Tuesday", "Tuesday morning") + " Follow us for more news."
    r = find_duplicates([art("a", STORY), art("b", edited, hours=3)], S)
    (e,) = r.edges
    assert e.kind == "near"
    assert e.evidence["jaccard"] >= S.near_jaccard
    assert e.score == max(e.evidence["jaccard"], e.evidence["containment"])
    assert e.evidence["shared_shingles"] > 50  # shingle texts: `newsflow dedup explain`
    assert r.assignments["b"].duplicate_of == "a" and r.assignments["b"].dup_kind == "near"


def test_truncated_excerpt_matches_by_containment():
    excerpt = " ".join(STORY.split()[:45])  # a feed teaser: the first 45 words
    r = find_duplicates([art("full", STORY + " " + OTHER), art("teaser", excerpt, hours=1)], S)
    (e,) = r.edges
    assert e.kind == "near"
    assert e.evidence["jaccard"] < S.near_jaccard
    assert e.evidence["containment"] == 1.0


def test_near_is_same_language_only():
    r = find_duplicates([art("a", STORY), art("b", STORY + " extra words here", lang="fr")],
                        S.replace(dedup_encoders="use-m"), encoder=_NoEncoder())
    assert [e.kind for e in r.edges] == []


def test_unrelated_texts_do_not_match():
    r = find_duplicates([art("a", STORY), art("b", OTHER)], S)
    assert r.edges == [] and r.counts["multi_article_stories"] == 0


def test_explain_pair_near_is_json_and_has_thresholds():
    import json

    edited = STORY.replace("Tuesday", "Wednesday")
    out = explain_pair(art("a", STORY), art("b", edited), S)
    json.dumps(out)
    assert out["decision"]["kind"] == "near" and out["decision"]["duplicate"] is True
    assert out["edge"]["jaccard_threshold"] == S.near_jaccard
    assert out["edge"]["region"]["aligned"] >= 20 and out["story"]["same_story"] is True
    assert out["exact"] == {"same_canonical_url": False, "same_guid_same_source": False,
                            "same_text_hash": False}
    out = explain_pair(art("a", STORY), art("c", OTHER), S)
    assert out["decision"]["duplicate"] is False


class _NoEncoder:
    """An encoder that finds nothing similar: isolates the near stage from translation."""

    name = "none"
    dim = 4

    def encode(self, texts):
        import numpy as np

        out = np.zeros((len(texts), 4), dtype=np.float32)
        for i in range(len(texts)):
            out[i, i % 4] = 1.0
        return out
