"""Main-text extraction quality against human ground truth, beside a plain-trafilatura baseline.

``newsflow eval extraction DIR`` reads the labelled page collections it finds under DIR and
scores, per page, the bag of tokens of our ``body_text`` (``extract_page(...).text``)
against the ground-truth text: precision, recall and F1.  In the same run it scores
``trafilatura.extract(html)`` with default settings, so "better than the baseline" is
measured on the same pages, machine and library version, not quoted from a paper.

Layouts understood (DIR may hold several, or be one of them):

* ``fundus/``: ``DERIVED_version_to_html.tsv`` maps each publisher's answer version to a
  gzipped page; the answer is summary + section headlines + paragraphs.
* ``readability/``: ``test/test-pages/<name>/{source.html,expected.html,expected-metadata.json}``.

Tokens are lower-cased ``\\w+`` runs, except that CJK ideographs and kana count one per
character: those scripts do not put spaces between words, and whole-run tokens would
score a near-perfect extraction as 0.  A page's language is its ground truth's declared
language (readability metadata) or the page's ``<html lang>``, else lingua on the truth.
Figures are macro means over pages (every page weighs the same).
"""

from __future__ import annotations

import csv
import gzip
import json
import re
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import lxml.html

from pipeline.extract.language import normalize_code

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")
_LANG_ATTR = re.compile(rb"<html[^>]{0,400}?\slang\s*=\s*[\"']?([A-Za-z_-]{2,12})", re.I)


@dataclass(frozen=True)
class Case:
    """One labelled page."""

    name: str
    source: str  # fundus | readability
    html: bytes
    url: str
    truth: str
    language: str


@dataclass
class Score:
    precision: float
    recall: float
    f1: float


@dataclass
class Result:
    """Per-page scores of both extractors, grouped later by language and by source."""

    case: Case
    ours: Score
    baseline: Score
    ours_error: str | None = None


@dataclass
class Summary:
    pages: int
    ours: Score
    baseline: Score
    worst: list[tuple[float, str]] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.ours.f1 / self.baseline.f1 if self.baseline.f1 else float("inf")


def tokens(text: str) -> Counter[str]:
    return Counter(_TOKEN.findall((text or "").lower()))


def token_prf(candidate: str, truth: str) -> Score:
    """Bag-of-tokens precision, recall and F1 of ``candidate`` against ``truth``."""
    got, want = tokens(candidate), tokens(truth)
    common = sum((got & want).values())
    if not common:
        return Score(0.0, 0.0, 0.0) if want or got else Score(1.0, 1.0, 1.0)
    p, r = common / sum(got.values()), common / sum(want.values())
    return Score(p, r, 2 * p * r / (p + r))


# ------------------------------------------------------------------------------ corpora


def _page_lang(html: bytes) -> str | None:
    m = _LANG_ATTR.search(html[:20000])
    return normalize_code(m.group(1).decode("ascii")) if m else None


def _guess_lang(text: str) -> str:
    from lingua import LanguageDetectorBuilder

    global _ALL_LANGS
    if _ALL_LANGS is None:
        _ALL_LANGS = LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode().build()
    lang = _ALL_LANGS.detect_language_of(text[:2000])
    return lang.iso_code_639_1.name.lower() if lang else "und"


_ALL_LANGS = None


def _fundus(root: Path) -> Iterator[Case]:
    base = root / "tests" / "resources" / "parser" / "test_data"
    with open(root / "DERIVED_version_to_html.tsv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    answers_cache: dict[Path, dict] = {}
    for row in rows:
        folder = base / row["country"]
        path = folder / f"{row['publisher']}.json"
        if path not in answers_cache:
            answers_cache[path] = json.loads(path.read_text(encoding="utf-8"))
        body = answers_cache[path][row["json_version_key"]]["body"]
        parts = list(body.get("summary", []))
        for section in body.get("sections", []):
            parts += section.get("headline", []) + section.get("paragraphs", [])
        truth = "\n".join(parts)
        html = gzip.decompress((folder / row["html_file"]).read_bytes())
        lang = _page_lang(html) or _guess_lang(truth)
        yield Case(f"fundus/{row['country']}/{row['html_file']}", "fundus", html, row["url"], truth, lang)


def _readability(root: Path) -> Iterator[Case]:
    pages = root / "test" / "test-pages"
    for folder in sorted(pages.iterdir()):
        expected = folder / "expected.html"
        if not expected.is_file() or not (folder / "source.html").is_file():
            continue
        # expected.html has no charset declaration: it is UTF-8 (lxml would guess Latin-1)
        truth = lxml.html.fromstring(expected.read_bytes().decode("utf-8", "replace")).text_content()
        html = (folder / "source.html").read_bytes()
        meta_path = folder / "expected-metadata.json"
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
        lang = normalize_code(meta.get("lang")) or _page_lang(html) or _guess_lang(truth)
        yield Case(f"readability/{folder.name}", "readability", html, f"http://fakehost/{folder.name}/", truth, lang)


def load_cases(directory: str | Path, *, every: int = 1, sources: tuple[str, ...] = ()) -> list[Case]:
    """Every labelled page under ``directory`` (every ``every``-th per collection)."""
    root = Path(directory)
    layouts: list[tuple[str, Path, Callable[[Path], Iterator[Case]]]] = []
    for name, marker, reader in (
        ("fundus", "DERIVED_version_to_html.tsv", _fundus),
        ("readability", "test/test-pages", _readability),
    ):
        for candidate in (root / name, root):
            if (candidate / marker).exists():
                layouts.append((name, candidate, reader))
                break
    if not layouts:
        raise FileNotFoundError(f"no labelled pages (fundus/ or readability/ layout) under {root}")
    cases: list[Case] = []
    for name, path, reader in layouts:
        if sources and name not in sources:
            continue
        cases.extend(list(reader(path))[:: max(1, every)])
    return cases


# ------------------------------------------------------------------------------ scoring


def ours(case: Case) -> str:
    from pipeline.extract.html import extract_page
    from pipeline.models import ExtractError

    try:
        return extract_page(case.html, case.url).text
    except ExtractError:
        return ""


def baseline(case: Case) -> str:
    """Plain ``trafilatura.extract`` with its default settings."""
    import trafilatura

    try:
        return trafilatura.extract(case.html) or ""
    except Exception:  # noqa: BLE001 - the baseline failing on a page scores 0 there
        return ""


def evaluate(cases: list[Case]) -> tuple[list[Result], dict[str, float]]:
    """Score both extractors on every case; also returns seconds spent in each."""
    results, spent = [], {"ours": 0.0, "baseline": 0.0}
    for case in cases:
        t0 = time.perf_counter()
        mine = ours(case)
        t1 = time.perf_counter()
        base = baseline(case)
        t2 = time.perf_counter()
        spent["ours"] += t1 - t0
        spent["baseline"] += t2 - t1
        results.append(Result(case, token_prf(mine, case.truth), token_prf(base, case.truth)))
    return results, spent


def _mean(scores: list[Score]) -> Score:
    return Score(*(statistics.fmean(getattr(s, f) for s in scores) for f in ("precision", "recall", "f1")))


def summarize(results: list[Result], key: Callable[[Result], str]) -> dict[str, Summary]:
    groups: dict[str, list[Result]] = defaultdict(list)
    for r in results:
        groups[key(r)].append(r)
    out = {}
    for name in sorted(groups):
        rs = groups[name]
        worst = sorted((round(r.ours.f1, 3), r.case.name) for r in rs)[:3]
        out[name] = Summary(len(rs), _mean([r.ours for r in rs]), _mean([r.baseline for r in rs]), worst)
    return out


def report(results: list[Result], spent: dict[str, float]) -> dict:
    """JSON-ready figures: overall, per source and per language."""

    def block(s: Summary) -> dict:
        return {
            "pages": s.pages,
            "newsflow": s.ours.__dict__,
            "baseline": s.baseline.__dict__,
            "f1_ratio": s.ratio,
            "worst": s.worst,
        }

    return {
        "overall": block(summarize(results, lambda r: "all")["all"]),
        "by_source": {k: block(v) for k, v in summarize(results, lambda r: r.case.source).items()},
        "by_language": {k: block(v) for k, v in summarize(results, lambda r: r.case.language).items()},
        "seconds": spent,
    }


def render(figures: dict) -> str:
    lines = [
        f"{'group':<22} {'pages':>5}  {'P':>6} {'R':>6} {'F1':>6}   {'base P':>6} {'base R':>6} {'base F1':>7}  {'ratio':>6}",
    ]

    def row(name: str, b: dict) -> str:
        o, s = b["newsflow"], b["baseline"]
        return (
            f"{name:<22} {b['pages']:>5}  {o['precision']:6.3f} {o['recall']:6.3f} {o['f1']:6.3f}   "
            f"{s['precision']:6.3f} {s['recall']:6.3f} {s['f1']:7.3f}  {b['f1_ratio']:6.3f}"
        )

    lines.append(row("ALL", figures["overall"]))
    for name, b in figures["by_source"].items():
        lines.append(row(f"source={name}", b))
    for name, b in figures["by_language"].items():
        lines.append(row(f"lang={name}", b))
    sec = figures["seconds"]
    pages = figures["overall"]["pages"] or 1
    lines.append(
        f"time per page: newsflow {1000 * sec['ours'] / pages:.0f} ms, "
        f"baseline {1000 * sec['baseline'] / pages:.0f} ms"
    )
    return "\n".join(lines)


__all__ = ["Case", "Score", "evaluate", "load_cases", "render", "report", "token_prf", "tokens"]
