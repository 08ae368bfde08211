"""Language detection on our own sentences, with hint fallbacks for short texts."""


import pytest

from pipeline.extract.language import detect_language, normalize_code
from tests.conftest import SHARED, need

ALLOWED = ("en", "ar", "fr", "fa")
SEED = SHARED / "seeds" / "000_8f7be9682dcd2869.txt"

LONG = {
    "en": "The city council approved a new budget for public transport on Tuesday, "
    "adding two ferry routes and extending night bus services until two in the morning.",
    "ar": "وافق مجلس المدينة يوم الثلاثاء على موازنة جديدة للنقل العام، تتضمن خطين جديدين "
    "للعبارات وتمديد خدمة الحافلات الليلية حتى الساعة الثانية صباحاً.",
    "fr": "Le conseil municipal a approuvé mardi un nouveau budget pour les transports publics, "
    "avec deux lignes de ferry supplémentaires et des bus de nuit jusqu'à deux heures.",
    "fa": "شورای شهر روز سه‌شنبه بودجه جدیدی برای حمل و نقل عمومی تصویب کرد که شامل دو خط "
    "جدید کشتی و تمدید خدمات اتوبوس شبانه تا ساعت دو بامداد می‌شود.",
}


@pytest.mark.parametrize("lang", sorted(LONG))
def test_long_texts(lang: str) -> None:
    code, confidence = detect_language(LONG[lang], ALLOWED)
    assert code == lang
    assert confidence >= 0.5


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Prices rose again this week", "en"),
        ("ارتفعت الأسعار مجدداً هذا الأسبوع", "ar"),
        ("Les prix ont encore augmenté cette semaine", "fr"),
        ("قیمت‌ها این هفته دوباره بالا رفت", "fa"),
    ],
)
def test_short_sentences(text: str, lang: str) -> None:
    assert detect_language(text, ALLOWED)[0] == lang


def test_too_short_uses_first_usable_hint() -> None:
    # "ok" is nothing to go on; the <html lang> hint (region subtag dropped) decides
    assert detect_language("ok", ALLOWED, hints=[None, "fr-FR", "en"]) == ("fr", 0.5)


def test_hint_outside_allowed_is_skipped() -> None:
    assert detect_language("ok", ALLOWED, hints=["de", "EN_us"])[0] == "en"


def test_nothing_known() -> None:
    assert detect_language("", ALLOWED) == ("und", 0.0)
    assert detect_language("12345 -- 67", ALLOWED, hints=[None, "zz-bogus!"]) == ("und", 0.0)


def test_no_text_but_hint() -> None:
    assert detect_language("2025", ALLOWED, hints=["ar"]) == ("ar", 0.5)


def test_confident_text_beats_wrong_hint() -> None:
    assert detect_language(LONG["ar"], ALLOWED, hints=["en"])[0] == "ar"


def test_single_allowed_language() -> None:
    assert detect_language(LONG["en"], ["en"]) == ("en", 1.0)


def test_normalize_code() -> None:
    assert normalize_code(" AR-iq ") == "ar"
    assert normalize_code("en_US") == "en"
    assert normalize_code("") is None
    assert normalize_code("x") is None


def test_seed_page_is_arabic() -> None:
    need(SEED.is_file(), f"seed page not available at {SEED}")
    code, confidence = detect_language(SEED.read_text(encoding="utf-8"), ALLOWED)
    assert code == "ar" and confidence > 0.9
