"""Attribution lines: translators and original outlets, in Arabic and English.

The seed page (a real Arabic translation) is read at test time, never copied here.
"""

import re

import pytest

from pipeline.extract.attribution import extract_attribution, normalize_outlet, resolve_outlet
from pipeline.extract.html import is_chrome
from tests.conftest import SHARED, need

SEED = SHARED / "seeds" / "000_8f7be9682dcd2869.txt"
AR_BODY = "\n\n".join(
    [
        "قال مسؤولون إن محطة تحلية المياه الجديدة بدأت التشغيل التجريبي هذا الأسبوع بطاقة أولية كبيرة.",
        "وأضاف مدير المشروع أن المحطة ستخدم نحو 600 ألف نسمة في الأحياء الجنوبية من المدينة.",
        "ويشكو السكان منذ سنوات من تراجع نوعية المياه بسبب قلة الإطلاقات المائية.",
    ]
)
EN_BODY = "\n\n".join(
    [
        "A desalination plant started a trial run this week, officials said on Monday.",
        "The plant will serve about 600,000 residents in the southern districts.",
        "Residents have complained about salty tap water for years.",
    ]
)


def _seed_body() -> str:
    """The seed as extract_page would leave it: chrome lines gone, stop at the comment box."""
    need(SEED.is_file(), f"seed page not available at {SEED}")
    lines = [ln for ln in SEED.read_text(encoding="utf-8").split("\n") if ln.strip()]
    end = next(i for i, ln in enumerate(lines) if "المحادثة" in ln)
    return "\n".join(ln for ln in lines[:end] if not is_chrome(ln))


def test_seed_translator_and_source() -> None:
    body, att = extract_attribution(_seed_body(), "ar")
    assert att.translator == "حامد احمد"
    assert att.original_domain == "thenationalnews.com"
    assert att.lines[0].startswith("ترجمة/")
    assert att.lines[1].startswith("عن ") and "ناشنال" in att.lines[1]
    assert "حامد احمد" not in body
    assert not any(ln.strip().startswith("عن ذي") for ln in body.split("\n"))
    # the in-body mentions of the outlet stay in the body
    assert body.count("ناشنال") >= 2


def test_seed_in_body_mention_is_not_a_source() -> None:
    """Without its standalone closing line, the seed names The National only inside
    sentences ("... لموقع ذي ناشنال ..."): that is reporting, not attribution."""
    lines = _seed_body().split("\n")
    without_source = "\n".join(ln for ln in lines if not re.sub(r"^\W+", "", ln).startswith("عن "))
    assert without_source != "\n".join(lines)
    body, att = extract_attribution(without_source, "ar")
    assert att.translator == "حامد احمد"
    assert att.original_outlet is None and att.original_domain is None
    assert body.count("ناشنال") >= 2


@pytest.mark.parametrize(
    ("line", "translator"),
    [
        ("ترجمة/ حامد احمد", "حامد احمد"),
        ("ترجمة: سارة نوري", "سارة نوري"),
        ("ترجمة وتحرير: سارة نوري", "سارة نوري"),
        ("ترجمة - سارة نوري", "سارة نوري"),
        ("Translated by Sara Nouri", "Sara Nouri"),
        ("Translated from Arabic by Sara Nouri", "Sara Nouri"),
    ],
)
def test_translator_lines(line: str, translator: str) -> None:
    body_in = AR_BODY if "ترجمة" in line else EN_BODY
    body, att = extract_attribution(f"{line}\n\n{body_in}", "ar")
    assert att.translator == translator
    assert att.lines == [line]
    assert body == body_in


@pytest.mark.parametrize(
    ("line", "outlet", "domain"),
    [
        ("عن ذي ناشنال الاخباري", "ذي ناشنال الاخباري", "thenationalnews.com"),
        ("نقلاً عن صحيفة الرافد", "صحيفة الرافد", "alrafid.example"),
        ("نقلا عن وكالة ميريديان", "وكالة ميريديان", "meridianwire.example"),
        ("المصدر: رويترز", "رويترز", "reuters.com"),
        ("عن هاربر تايمز", "هاربر تايمز", "harbortimes.example"),
        ("عن المرصد اليومي", "المرصد اليومي", "almarsad.example"),
        ("عن الواحة", "الواحة", "alwaha.example"),
        ("Source: Reuters", "Reuters", "reuters.com"),
        ("This article originally appeared in The Gulf Ledger.", "The Gulf Ledger", "gulfledger.example"),
        ("Originally published by Harbor Times on March 3, 2025.", "Harbor Times", "harbortimes.example"),
        ("Originally published in Foreign Policy", "Foreign Policy", "foreignpolicy.com"),
        ("Read the full story at Al-Monitor", "Al-Monitor", "al-monitor.com"),
    ],
)
def test_source_lines_at_end(line: str, outlet: str, domain: str) -> None:
    body_in = AR_BODY if any("\u0600" <= c <= "\u06ff" for c in line) else EN_BODY
    body, att = extract_attribution(f"{body_in}\n\n{line}", "ar")
    assert (att.original_outlet, att.original_domain) == (outlet, domain)
    assert att.lines == [line]
    assert body == body_in


def test_original_url_from_line() -> None:
    line = "This article originally appeared in The Gulf Ledger: https://www.gulfledger.example/news/a-b/."
    body, att = extract_attribution(f"{EN_BODY}\n\n{line}", "en")
    assert att.original_domain == "gulfledger.example"
    assert att.original_url == "https://www.gulfledger.example/news/a-b/"
    assert body == EN_BODY


@pytest.mark.parametrize(
    ("text", "outlet", "domain", "rest"),
    [
        ("WASHINGTON (Reuters) - The senate voted on Tuesday.", "Reuters", "reuters.com", "The senate voted on Tuesday."),
        ("(Meridian Wire) — Markets fell sharply.", "Meridian Wire", "meridianwire.example", "Markets fell sharply."),
        ("AMMAN (Meridian Wire) — The bank held rates.", "Meridian Wire", "meridianwire.example", "The bank held rates."),
        ("عمان (أ ف ب) - ارتفعت أسعار الذهب.", "أ ف ب", "afp.com", "ارتفعت أسعار الذهب."),
    ],
)
def test_datelines_strip_prefix_only(text: str, outlet: str, domain: str, rest: str) -> None:
    body, att = extract_attribution(f"{text}\n\n{EN_BODY}", "en")
    assert (att.original_outlet, att.original_domain) == (outlet, domain)
    assert body.split("\n\n")[0] == rest
    assert len(att.lines) == 1 and att.lines[0].rstrip(" -—") in text


def test_unknown_parenthetical_is_not_a_dateline() -> None:
    text = "The deal (worth $5bn) - signed on Monday - was welcomed.\n\n" + EN_BODY
    body, att = extract_attribution(text, "en")
    assert att.is_empty and body == text


def test_mentions_in_middle_or_long_lines_are_not_attribution() -> None:
    middle = "قال مسؤول لموقع ذي ناشنال إن الاتفاق سيوقع قريباً."
    paras = AR_BODY.split("\n\n")
    text = "\n\n".join([paras[0], paras[1], "فقرة إضافية للتعبئة.", middle, "فقرة أخرى.", "فقرة ثالثة.", paras[2]])
    body, att = extract_attribution(text, "ar")
    assert att.is_empty and body == text
    # a long sentence opening with "عن" at the end is body text
    long_line = "عن هذا الموضوع قال وزير المالية في مؤتمر صحفي إن الحكومة ستراجع الخطة كلها الشهر المقبل."
    body, att = extract_attribution(f"{AR_BODY}\n\n{long_line}", "ar")
    assert att.is_empty and body.endswith(long_line)


def test_translator_and_source_together() -> None:
    text = f"ترجمة/ سامر الجبوري\n\n{AR_BODY}\n\nعن ذا غلف ليدجر"
    body, att = extract_attribution(text, "ar")
    assert att.translator == "سامر الجبوري"
    assert att.original_domain == "gulfledger.example"
    assert body == AR_BODY


@pytest.mark.parametrize(
    ("name", "domain"),
    [
        ("ذي ناشنال", "thenationalnews.com"),
        ("The National", "thenationalnews.com"),
        ("موقع ذي ناشنال الإخباري", "thenationalnews.com"),
        ("أ ف ب", "afp.com"),
        ("وكالة فرانس برس", "afp.com"),
        ("AP", "apnews.com"),
        ("the GUARDIAN", "theguardian.com"),
        ("الغارديان", "theguardian.com"),
        ("جريدة المدى", "almadapaper.net"),
        ("المدى", "almadapaper.net"),
        ("الشرق الاوسط", "aawsat.com"),
        ("Reuters news service", "reuters.com"),
        ("ذا غلف ليدجر", "gulfledger.example"),
        ("غلف ليدجر", "gulfledger.example"),
        ("Harbor Times", "harbortimes.example"),
        ("هاربر تايمز", "harbortimes.example"),
        ("ميريديان واير", "meridianwire.example"),
        ("صحيفة الرافد", "alrafid.example"),
        ("المرصد اليومي", "almarsad.example"),
        ("الواحة", "alwaha.example"),
        ("National Bank", None),
        ("Unknown Gazette", None),
        ("", None),
    ],
)
def test_resolve_outlet(name: str, domain: str | None) -> None:
    assert resolve_outlet(name) == domain


def test_normalize_outlet_folds_spellings() -> None:
    assert normalize_outlet("صحيفة الشرق الأوسط") == normalize_outlet("الشرق الاوسط")
    assert normalize_outlet("The Economist") == normalize_outlet("economist")
