"""Translation detection on a small English article we wrote, its faithful Arabic
translation, and an independent Arabic article on the same (invented) event that shares
its names and numbers."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from pipeline.config import Settings
from pipeline.dedup import explain_pair, find_duplicates
from pipeline.dedup.encoder import get_encoder
from pipeline.models import Article

T0 = datetime(2025, 8, 19, 9, 0, tzinfo=UTC)

EN = """The city council in Tripoli approved a budget of 4.5 million dollars on Tuesday after a debate that lasted nine hours.
Mayor Karim Haddad said the money would pay for 120 new teachers and repair 35 schools before September 2026.
Opposition members argued that the plan ignores the poorest neighbourhoods on the edge of the city.
Residents gathered outside the town hall to demand clean drinking water and regular electricity.
The finance committee expects the first payments to reach schools within three months.
Haddad promised to publish a full report on spending at the end of the year.
Teachers' unions welcomed the decision but warned that salaries remain too low.
The budget still needs the approval of the Ministry of Finance before it takes effect."""

AR = """وافق المجلس البلدي في طرابلس يوم الثلاثاء على ميزانية قدرها ٤٫٥ مليون دولار بعد نقاش استمر تسع ساعات.
وقال رئيس البلدية كريم حداد إن الأموال ستغطي تعيين ١٢٠ معلما جديدا وإصلاح ٣٥ مدرسة قبل أيلول ٢٠٢٦.
واعتبر أعضاء المعارضة أن الخطة تتجاهل الأحياء الأكثر فقرا على أطراف المدينة.
وتجمع السكان أمام مبنى البلدية للمطالبة بمياه شرب نظيفة وكهرباء منتظمة.
وتتوقع لجنة المالية أن تصل الدفعات الأولى إلى المدارس خلال ثلاثة أشهر.
ووعد حداد بنشر تقرير كامل عن الإنفاق في نهاية العام.
ورحبت نقابات المعلمين بالقرار لكنها حذرت من أن الرواتب لا تزال منخفضة للغاية.
ولا تزال الميزانية بحاجة إلى موافقة وزارة المالية قبل أن تدخل حيز التنفيذ."""

AR_OTHER = """شهدت طرابلس احتجاجات جديدة يوم الثلاثاء بينما كان المجلس البلدي يناقش ميزانية ٤٫٥ مليون دولار.
ويقول منتقدون إن كريم حداد لم يف بوعوده السابقة بشأن ٣٥ مدرسة متهالكة في المدينة قبل أيلول ٢٠٢٦.
وأكد صاحب متجر في السوق القديم أن أسعار الخبز ارتفعت مرتين منذ بداية الشتاء.
وتعاني الأسر في الضواحي من انقطاع الكهرباء لساعات طويلة كل يوم.
ويطالب ناشطون بإجراء تحقيق مستقل في عقود البناء التي وقعتها البلدية مع شركات خاصة.
وقال طالب جامعي إن الشباب فقدوا الثقة في المؤسسات المحلية منذ سنوات.
ومن المقرر أن تعقد الحركة الاحتجاجية اجتماعا موسعا في الأسبوع المقبل.
ولم ترد البلدية على طلبات التعليق حتى مساء الثلاثاء."""


def art(aid, body, lang, hours=0, **kw) -> Article:
    url = f"https://{aid}.example/story"
    return Article(
        article_id=aid, url=url, canonical_url=url, feed_url=url, source_domain=f"{aid}.example",
        guid=url, title=aid, summary="", body_text=body, language=lang, language_confidence=1.0,
        published_at=T0 + timedelta(hours=hours), published_at_source="feed",
        published_at_flag=None, fetched_at=T0, **kw,
    )


@pytest.fixture(scope="module")
def encoder():
    return get_encoder("use-m")


S = Settings()


def test_faithful_translation_accepted_independent_article_rejected(encoder):
    en = art("en", EN, "en")
    ar = art("ar", AR, "ar", hours=6, translator="T. Translator")
    other = art("other", AR_OTHER, "ar", hours=3)
    r = find_duplicates([other, ar, en], S, encoder=encoder)
    assert [(e.a, e.b, e.kind) for e in r.edges] == [("ar", "en", "translation")]
    ev = r.edges[0].evidence
    assert ev["region"]["coverage"] >= S.translation_region_coverage and ev["region"]["aligned"] >= 6
    assert ev["evidence"] >= S.translation_min_evidence
    # every aligned pair is kept, with its character offsets in both bodies
    assert len(ev["aligned_pairs"]) == ev["region"]["aligned"]
    ar_body = AR
    for p in ev["aligned_pairs"]:
        s0, s1 = p["a_span"]
        assert 0 <= s0 < s1 <= len(ar_body) and len(ar_body[s0:s1].split()) >= 4
    assert ev["anchors"]["shared_numeric_sample"] == ["number:120", "number:35", "number:4.5",
                                                      "year:2026"]
    assert {"krm", "hd"} <= set(ev["anchors"]["shared_names_sample"])  # Karim Haddad
    assert r.assignments["ar"].duplicate_of == "en"
    assert r.assignments["ar"].dup_kind == "translation"
    assert r.assignments["other"].story_id == "s_other"
    assert r.counts["translation"] == 1 and r.counts["stories"] == 2


def test_independent_article_has_anchors_but_not_alignment(encoder):
    out = explain_pair(art("en", EN, "en"), art("other", AR_OTHER, "ar"), S, encoder)
    json.dumps(out)
    tr = out["edge"]
    # same event: same numbers and names, strong enough to corroborate ...
    assert tr["anchors"]["numeric_shared"] >= 3 and tr["strong_anchors"] is True
    # ... but the sentences do not align, so it is not a translation
    assert tr["region"]["aligned"] < 2
    assert out["decision"]["duplicate"] is False and out["story"]["same_story"] is False


def test_explain_translation_evidence(encoder):
    out = explain_pair(art("en", EN, "en"), art("ar", AR, "ar", hours=6), S, encoder)
    json.dumps(out)
    tr = out["edge"]
    assert out["decision"] == {"duplicate": True, "kind": "translation", "score": tr["region"]["coverage"],
                               "reason": "aligned in order (primary encoder)", "same_story": True}
    assert "ann" in out["candidate_sources"] and tr["doc_cosine"] >= S.translation_candidate_cosine
    assert len(tr["aligned_pairs"]) == tr["region"]["aligned"] >= 6
    assert all(p["cosine"] >= S.translation_sentence_cosine for p in tr["aligned_pairs"])
    assert tr["encoder_covers_languages"] is True
    assert out["story"]["path"] == [{"a": "ar", "b": "en", "kind": "translation", "score": tr["score"]}]


def test_time_never_vetoes_a_late_translation(encoder):
    far = art("ar", AR, "ar", hours=24 * 470)  # 15 months later
    r = find_duplicates([art("en", EN, "en"), far], S, encoder=encoder)
    assert [(e.a, e.b, e.kind) for e in r.edges] == [("ar", "en", "translation")]


def test_uncovered_language_needs_corroboration(encoder):
    """Two Persian/Kurdish-tagged texts: whatever the encoders say, no anchors => no merge."""
    fa1 = art("fa1", AR, "fa")
    fa2 = art("fa2", AR_OTHER.replace("٤٫٥", "٩").replace("٣٥", "٧٧").replace("٢٠٢٦", ""), "ckb")
    out = explain_pair(fa1, fa2, S, encoder)
    assert out["edge"]["encoder_tier"] != "primary"  # USE-m does not cover fa/ckb
    assert out["decision"]["duplicate"] is False
    only_use = explain_pair(fa1, fa2, S.replace(dedup_encoders="use-m"), encoder)
    assert only_use["edge"]["encoder_covers_languages"] is False
    assert only_use["decision"]["duplicate"] is False


def test_decision_rule():
    from pipeline.dedup.align import Region
    from pipeline.dedup.verify import decide

    def region(cosines, n_a=10, n_b=10, gap=0):
        return Region(tuple((k * (gap + 1), k * (gap + 1), c) for k, c in enumerate(cosines)), n_a, n_b)

    thr = S.translation_sentence_cosine
    assert decide(region([0.85] * 4), "primary", False, False, thr, S)[0] is True
    # three paraphrases of one statement: little evidence above the threshold
    assert decide(region([0.66, 0.7, 0.68]), "primary", False, False, thr, S)[0] is False
    assert decide(region([0.66, 0.7, 0.68]), "primary", True, False, thr, S)[0] is True  # anchors
    assert decide(region([0.66, 0.7, 0.68]), "primary", False, True, thr, S)[0] is True  # attribution
    # the whole of a two-sentence teaser aligned closely
    assert decide(region([0.8, 0.79], n_a=2), "primary", False, False, thr, S)[0] is True
    assert decide(region([0.95]), "primary", True, True, thr, S)[0] is False  # one sentence
    # sparse: every other sentence of the region aligned
    assert decide(region([0.9] * 4, gap=1), "primary", True, True, thr, S)[0] is False
    # a secondary encoder (e5): four aligned sentences, or fewer with corroboration
    assert decide(region([0.92] * 4, n_a=8), "secondary", False, False, 0.86, S)[0] is True
    assert decide(region([0.88] * 4, n_a=8), "secondary", False, False, 0.86, S)[0] is False
    assert decide(region([0.9] * 4, n_a=10), "secondary", False, False, 0.86, S)[0] is False
    assert decide(region([0.9] * 3, n_a=6), "secondary", False, False, 0.86, S)[0] is False
    assert decide(region([0.9] * 3, n_a=6), "secondary", True, False, 0.86, S)[0] is True
    assert decide(region([0.9] * 3, n_a=8), "secondary", True, False, 0.86, S)[0] is False
    # no encoder covers the pair: alignment AND anchors/attribution
    assert decide(region([0.9] * 8), "uncovered", False, False, thr, S)[0] is False
    assert decide(region([0.9] * 8), "uncovered", True, False, thr, S)[0] is True
    assert decide(region([0.9] * 4), "uncovered", True, False, thr, S)[0] is False


def test_attribution_names_the_other_outlet():
    from pipeline.dedup.corroborate import attribution

    orig = art("thenational", EN, "en")
    tr = art("almada", AR, "ar", translator="Hamid", original_outlet="The National",
             original_domain="www.thenational.example")
    got = attribution(tr, orig)
    assert got["a_credits_b"] is True and got["names_other_outlet"] is True
    assert attribution(orig, art("x", AR, "ar"))["names_other_outlet"] is False
