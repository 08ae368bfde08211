"""Every folding rule of normalize_for_matching, and the sentence splitter."""

from pipeline.extract.textnorm import normalize_for_matching as norm
from pipeline.extract.textnorm import sentences


def test_nfkc_and_casefold():
    assert norm("ＡＢＣ Straße") == "abc strasse"
    assert norm("ﻻ") == "لا"  # presentation form -> base letters


def test_bidi_and_zero_width_removed():
    assert norm("a\u200eb\u200fc\u202ad\u202ee\u2066f\u2069g\u200bh\u200di\ufeffj") == "abcdefghij"


def test_arabic_diacritics_tatweel_and_quranic_marks():
    assert norm("مُحَمَّدٌ") == "محمد"
    assert norm("كـــبـير") == "كبير"
    assert norm("رَحْمٰن") == "رحمن"  # superscript alef U+0670
    assert norm("الله\u06d6") == "الله"


def test_letter_folds():
    assert norm("أحمد إبراهيم آمن ٱلكتاب") == "احمد ابراهيم امن الكتاب"
    assert norm("مستشفى") == "مستشفي"
    assert norm("مدرسة") == "مدرسه"
    assert norm("مسؤول") == "مسوول"
    assert norm("رئيس") == "رييس"


def test_digits_and_number_separators():
    assert norm("٢٠٢٥ ۱۴۰۳") == "2025 1403"
    assert norm("1,250,000 people") == "1250000 people"
    assert norm("١٬٢٥٠٬٠٠٠") == "1250000"
    assert norm("٣٫٥") == "3.5"
    assert norm("rose 3.5 percent.") == "rose 3.5 percent"
    assert norm("items 1,2,3") == "items 1 2 3"  # not a thousands group


def test_punctuation_to_space_and_whitespace_collapsed():
    assert norm("«قال»، هل؟ نعم؛ لا!") == "قال هل نعم لا"
    assert norm("  Hello,\n\tWorld — (again)… ") == "hello world again"
    assert norm("") == ""


def test_same_words_in_two_encodings_normalize_equal():
    a = "قالَ الرئيسُ إنّ ١٬٢٥٠ شخصاً"
    b = "قال \u200fالرئيس إن 1,250 شخصا"
    assert norm(a) == norm(b)


def test_sentences_english_abbreviations_and_decimals():
    text = (
        "Mr. Smith met U.S. officials in Washington on Monday. Prices rose 3.5 percent "
        "in one year! Did the plan work as promised? Yes.\nA new line starts another sentence here"
    )
    assert sentences(text) == [
        "Mr. Smith met U.S. officials in Washington on Monday.",
        "Prices rose 3.5 percent in one year!",
        "Did the plan work as promised?",
        "A new line starts another sentence here",
    ]


def test_sentences_arabic():
    text = "قال الوزير إن الحكومة ستعمل بسرعة. هل هذا صحيح يا ترى؟ نعم.\nسطر جديد يبدأ جملة أخرى هنا"
    assert sentences(text) == [
        "قال الوزير إن الحكومة ستعمل بسرعة.",
        "هل هذا صحيح يا ترى؟",
        "سطر جديد يبدأ جملة أخرى هنا",
    ]


def test_sentences_min_words():
    assert sentences("Short one. This one has enough words in it.", min_words=4) == [
        "This one has enough words in it."
    ]
    assert sentences("Short one.", min_words=1) == ["Short one."]


def test_fast_path_matches_the_per_character_rule():
    """The translate-table implementation equals the per-character reference: letters,
    numbers, marks, spaces and decimal points stay; emoji go, astral letters stay."""
    import re
    import unicodedata

    from pipeline.extract import textnorm as tn

    def reference(text: str) -> str:
        text = unicodedata.normalize("NFKC", text).translate(tn._INVISIBLE)
        text = tn.fold_number_separators(text.casefold().translate(tn._FOLD))
        out = []
        for i, ch in enumerate(text):
            if tn._keep_char(ch):
                out.append(ch)
            elif ch == "." and 0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit():
                out.append(ch)
            else:
                out.append(" ")
        return re.sub(r"\s+", " ", "".join(out)).strip()

    text = "Price: 3.5% — «quoted» x.y 😀 𝐀bc 1,250,000 ٣٫٥ end."
    assert tn.normalize_for_matching(text) == "price 3.5 quoted x y abc 1250000 3.5 end"
    sample = "".join(chr(c) for c in range(0x20, 0x3000, 3)) + "😀𝐀𐍈"
    assert tn.normalize_for_matching(sample) == reference(sample)
