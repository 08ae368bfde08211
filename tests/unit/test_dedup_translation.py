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
    assert ev["share"] >= S.translation_min_share and ev["aligned"] >= 6
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
    tr = out["translation"]
    # same event: same numbers and names, strong enough to corroborate ...
    assert tr["anchors"]["numeric_shared"] >= 3 and tr["strong_anchors"] is True
    # ... but the sentences do not align, so it is not a translation
    assert tr["share"] < 0.35
    assert out["decision"]["duplicate"] is False


def test_explain_translation_evidence(encoder):
    out = explain_pair(art("en", EN, "en"), art("ar", AR, "ar", hours=6), S, encoder)
    json.dumps(out)
    tr = out["translation"]
    assert out["decision"] == {"duplicate": True, "kind": "translation", "score": tr["share"],
                               "reason": "aligned"}
    assert tr["candidate"] is True and tr["doc_cosine"] >= S.translation_candidate_cosine
    assert 1 <= len(tr["aligned_pairs"]) <= 5
    assert all(p["cosine"] >= S.translation_sentence_cosine for p in tr["aligned_pairs"])
    assert tr["encoder_covers_languages"] is True


def test_outside_window_is_not_a_candidate(encoder):
    far = art("ar", AR, "ar", hours=24 * (S.dedup_window_days + 1))
    r = find_duplicates([art("en", EN, "en"), far], S, encoder=encoder)
    assert r.edges == []


def test_uncovered_language_needs_corroboration(encoder):
    """Two Persian/Kurdish-tagged texts: whatever the encoders say, no anchors => no merge."""
    fa1 = art("fa1", AR, "fa")
    fa2 = art("fa2", AR_OTHER.replace("٤٫٥", "٩").replace("٣٥", "٧٧").replace("٢٠٢٦", ""), "ckb")
    out = explain_pair(fa1, fa2, S, encoder)
    assert out["translation"]["encoder_tier"] != "primary"  # USE-m does not cover fa/ckb
    assert out["decision"]["duplicate"] is False
    only_use = explain_pair(fa1, fa2, S.replace(dedup_encoders="use-m"), encoder)
    assert only_use["translation"]["encoder_covers_languages"] is False
    assert only_use["decision"]["duplicate"] is False


def test_decision_rule_weak_share_needs_corroboration():
    from pipeline.dedup.verify import decide

    ov = {"names_shared": 0, "names_coverage": 0.0}
    names = {"names_shared": 3, "names_coverage": 0.8}
    assert decide(0.9, 8, "primary", ov, False, False, S) == (True, "aligned")
    assert decide(0.4, 4, "primary", ov, False, True, S)[0] is True  # attribution names the outlet
    assert decide(0.4, 4, "primary", ov, True, False, S)[0] is True  # strong anchors
    assert decide(0.4, 4, "primary", ov, False, False, S)[0] is False
    assert decide(0.3, 3, "primary", ov, True, True, S)[0] is False
    assert decide(1.0, 1, "primary", ov, True, True, S)[0] is False  # one sentence is no alignment
    # a secondary encoder (e5): alignment AND corroboration (anchors, attribution or names)
    assert decide(0.9, 8, "secondary", ov, False, False, S)[0] is False
    assert decide(0.9, 8, "secondary", names, False, False, S)[0] is True
    assert decide(0.4, 8, "secondary", names, True, True, S)[0] is False
    # no encoder covers the pair: alignment AND anchors/attribution (names are not enough)
    assert decide(0.9, 8, "uncovered", names, False, False, S)[0] is False
    assert decide(0.9, 8, "uncovered", ov, True, False, S)[0] is True


def test_attribution_names_the_other_outlet():
    from pipeline.dedup.corroborate import attribution

    orig = art("thenational", EN, "en")
    tr = art("almada", AR, "ar", translator="Hamid", original_outlet="The National",
             original_domain="www.thenational.example")
    got = attribution(tr, orig)
    assert got["a_credits_b"] is True and got["names_other_outlet"] is True
    assert attribution(orig, art("x", AR, "ar"))["names_other_outlet"] is False
