"""Text analysis for the search index: one analyzer per language group, run in our code.

Why our code and not the engine's tokenizers: tantivy's Arabic stemmer keeps proclitics
(``لتحلية`` -> ``لتحل`` but ``تحلية`` -> ``تحل``), so "تحلية" would never find "لتحلية".
So every document and every query is analysed here, the same way, and the engine gets
pre-analysed text in whitespace-tokenized fields (``t_en``, ``t_ar``, ``t_other``):

* all groups: :func:`pipeline.warehouse.searchtext.fold` (NFKC, case, invisible and bidi
  controls, harakat and tatweel, alef/hamza/yaa/taa marbuta variants, digit systems,
  thousands separators), as the warehouse always folded;
* ``en``: English stopwords out, Snowball English stems (tantivy's Rust stemmer, called
  through its ``TextAnalyzer``: fast, and the same one at query time);
* ``ar``: Arabic stopwords out, then a light stemmer (Light10's definite article and
  suffix rules) plus the one-letter proclitics (و ف, then ب ل ك): a word that may carry
  one yields two tokens, the whole word's stem and the stripped word's stem, so a native
  initial letter (كتاب, فلسطين) is never lost while لتحلية still meets تحلية;
* anything else (``fr``, ``fa``, unknown): folded only.

Large batches are analysed by a process pool (every core); small ones inline
(:func:`analyze_many`).  ``ANALYSIS_VERSION`` names this analysis in the index metadata:
changing it asks for ``newsflow warehouse reindex``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor

from pipeline.warehouse.searchtext import fold

ANALYSIS_VERSION = "a1"
GROUPS = ("en", "ar", "other")
MAX_TOKEN_CHARS = 40  # longer "words" (URLs, base64) are noise and bloat the term dictionary
POOL_MIN_DOCS = 4000  # below this, a pool's start-up costs more than it saves

_ARABIC_WORD = re.compile(r"^[\u0621-\u064a]+$")
_ARTICLES = ("وال", "بال", "كال", "فال", "لل", "ال")
_SUFFIXES2 = ("ها", "ان", "ات", "ون", "ين", "يه")
_SUFFIXES1 = ("ه", "ي")
# Frequent Arabic function words, folded (alef, yaa, taa marbuta as fold() writes them).
AR_STOPWORDS = frozenset("""
في من علي الي عن ان او ثم هذا هذه ذلك تلك التي الذي الذين اللذين اللتين كان كانت يكون
قد لا ما لم لن مع بين حتي منذ عند كل بعد قبل ايضا هو هي هم هما نحن انا انت انه انها
وفي ومن وعلي والي وعن وان او وهو وهي وقد ولا وما ولم كما اذا اذ لكن بل غير دون حيث
فيه فيها منه منها عليه عليها اليه اليها عنه عنها به بها له لها لهم الا اما اي تم وقال قال
""".split())

_EN = None  # tantivy TextAnalyzer, built once per process (it does not pickle)



def _english():
    global _EN
    if _EN is None:
        import tantivy

        _EN = (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace())
               .filter(tantivy.Filter.remove_long(MAX_TOKEN_CHARS + 1))
               .filter(tantivy.Filter.stopword("english"))
               .filter(tantivy.Filter.stemmer("english")).build())
    return _EN


def group_of(language: str | None) -> str:
    """The analyzer group of a language code."""
    return language if language in ("en", "ar") else "other"


def _light_stem(word: str) -> tuple[str, bool]:
    """Light10's rules on a folded Arabic word; also says whether an article was removed."""
    article = False
    for art in _ARTICLES:
        if word.startswith(art) and len(word) - len(art) >= 2:
            word, article = word[len(art):], True
            break
    for suf in _SUFFIXES2:
        if word.endswith(suf) and len(word) - 2 >= 3:
            word = word[:-2]
            break
    for suf in _SUFFIXES1:
        if word.endswith(suf) and len(word) - 1 >= 3:
            word = word[:-1]
            break
    return word, article


def arabic_token(word: str) -> str:
    """The index tokens of one folded word: one stem, or two (whole / proclitic stripped)."""
    if len(word) > MAX_TOKEN_CHARS:
        return ""
    if not _ARABIC_WORD.match(word):
        return word  # digits, Latin names inside Arabic text: folded only
    if word in AR_STOPWORDS:
        return ""
    whole, article = _light_stem(word)
    if article:
        return whole
    rest = word
    if rest[0] in "وف" and len(rest) >= 4:
        rest = rest[1:]
        stripped, article = _light_stem(rest)  # و + an article form: وللتحلية, فالمدرسة
        if article:
            return whole if stripped == whole else f"{whole} {stripped}"
    if rest[0] in "بلك" and len(rest) >= 4:
        rest = rest[1:]
    if rest == word or rest in AR_STOPWORDS:
        return whole
    stripped, _ = _light_stem(rest)
    return whole if stripped == whole else f"{whole} {stripped}"


def _analyze_word(raw: str, group: str) -> str:
    folded = fold(raw)
    if not folded:
        return ""
    if group == "en":
        return " ".join(_english().analyze(folded))
    if group == "ar":
        return " ".join(t for t in map(arabic_token, folded.split()) if t)
    return " ".join(t for t in folded.split() if len(t) <= MAX_TOKEN_CHARS)


class _Memo(dict):
    """raw word -> its tokens for one group; a miss analyses the word (and the memo is
    bounded: Zipfian vocabularies rarely fill it)."""

    def __init__(self, group: str) -> None:
        super().__init__()
        self.group = group

    def __missing__(self, raw: str) -> str:
        if len(self) > 1_000_000:
            self.clear()
        tokens = self[raw] = _analyze_word(raw, self.group)
        return tokens


def analyze(text: str | None, group: str) -> str:
    """``text`` as the index stores it for ``group``: whitespace-separated tokens.

    Word by word through a memo (raw word -> its tokens), as one C-level ``map``: news
    vocabularies are Zipfian, so nearly every word is a dictionary hit, not a fold and a
    stem (about 10x faster than folding whole texts).  Stopwords leave runs of spaces, which
    the whitespace tokenizer skips.  Queries go through the same function, so they always
    meet the documents."""
    if not text:
        return ""
    return " ".join(map(_CACHE[group].__getitem__, text.split()))


_CACHE: dict[str, _Memo] = {g: _Memo(g) for g in GROUPS}


def query_words(query: str, limit: int) -> list[str]:
    """The first ``limit`` distinct folded words of a query (what the query searches)."""
    return list(dict.fromkeys(fold(query).split()))[:limit]


def query_terms(words: list[str], group: str) -> list[str]:
    """The distinct terms ``words`` search in ``group``'s field, in query order."""
    return list(dict.fromkeys(analyze(" ".join(words), group).split()))


def _analyze_rows(rows: Sequence[tuple[str | None, str | None, str | None]]) -> list[str]:
    """(language, title, body) rows -> analysed text (the pool's unit of work)."""
    return [analyze(f"{title or ''}\n{body or ''}", group_of(lang)) for lang, title, body in rows]


def analyze_many(rows: Sequence[tuple[str | None, str | None, str | None]], pool: Executor | None = None,
                 chunk: int = 1000) -> list[str]:
    """Analyse (language, title, body) rows, on ``pool`` when given and the batch is large."""
    if pool is None or len(rows) < POOL_MIN_DOCS:
        return _analyze_rows(rows)
    parts = [rows[i:i + chunk] for i in range(0, len(rows), chunk)]
    out: list[str] = []
    for part in pool.map(_analyze_rows, parts):
        out.extend(part)
    return out


def workers(setting: int) -> int:
    """Analysis processes for a large load: the setting, else every core this process may use."""
    if setting > 0:
        return setting
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def make_pool(n: int) -> Executor | None:
    """A process pool for analysis (``spawn``: never fork a process holding a database
    connection and engine threads), or None when one process is all there is."""
    import multiprocessing

    if n <= 1 or multiprocessing.current_process().daemon:  # e.g. a Celery prefork child: no children allowed
        return None
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn"))


def iter_chunks(items: Sequence, size: int) -> Iterable[Sequence]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
