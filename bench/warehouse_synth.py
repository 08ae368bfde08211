"""Synthetic warehouse data for the warehouse tests and ``bench/warehouse_bench.py``.

Articles are made of words we chose (English and Arabic vocabularies below), never of real
articles' sentences.  Every ``pair_every``-th English article gets an Arabic "translation"
(same story, ``dup_kind = translation``) so story expansion has something to find.  Also:
a throw-away PostgreSQL schema per test run or benchmark (``pg_schema``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pyarrow as pa

from pipeline.lake.schema import ARTICLE_SCHEMA, with_version

PG_URL = os.environ.get("NEWSFLOW_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")

EN_WORDS = (
    "harbour desalination water plant city council budget minister election energy solar "
    "hospital university students prices oil wheat harvest rain drought port shipping bridge "
    "railway museum festival library market currency bank loan farmers fishing coast river "
    "storm flood school teachers court judge parliament vote tax export import factory "
    "workers strike airport tourism hotel desert oasis garden orchard vaccine clinic"
).split()
AR_WORDS = (
    "ميناء تحلية مياه محطة مدينة مجلس ميزانية وزير انتخابات طاقة شمسية مستشفى جامعة طلاب "
    "أسعار نفط قمح حصاد أمطار جفاف شحن جسر سكة متحف مهرجان مكتبة سوق عملة مصرف قرض مزارعون "
    "صيد ساحل نهر عاصفة فيضان مدرسة معلمون محكمة قاضي برلمان تصويت ضريبة تصدير استيراد مصنع "
    "عمال إضراب مطار سياحة فندق صحراء واحة حديقة بستان لقاح عيادة"
).split()
OUTLETS = {"en": ("north.example", "south.example", "east.example"), "ar": ("shamal.example", "janoub.example", "sharq.example")}
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _id(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _text(rng: random.Random, words: list[str], n: int) -> str:
    return " ".join(rng.choice(words) for _ in range(n))


def make_articles(n: int, *, seed: int = 0, start: int = 0, batch_id: str = "b0", pair_every: int = 4,
                  body_words: int = 120) -> tuple[pa.Table, list[dict]]:
    """``n`` articles numbered from ``start`` (ids are stable per number) and the dedup
    assignments of the translation pairs among them."""
    rng = random.Random(seed * 1_000_003 + start)
    rows, assignments = [], []
    i = start
    while len(rows) < n:
        lang = "en" if i % 2 == 0 else "ar"
        words = EN_WORDS if lang == "en" else AR_WORDS
        domain = OUTLETS[lang][i % 3]
        url = f"https://{domain}/news/{i}"
        published = T0 + timedelta(minutes=37 * i)
        row = {
            "article_id": _id(url), "url": url, "canonical_url": url, "feed_url": f"https://{domain}/feed",
            "source_domain": domain, "guid": str(i), "title": _text(rng, words, 6), "summary": None,
            "body_text": _text(rng, words, body_words), "language": lang, "language_confidence": 0.99,
            "published_at": published, "published_at_source": "feed", "published_at_flag": None,
            "fetched_at": published + timedelta(minutes=5), "authors": ["Desk"], "translator": None,
            "original_outlet": None, "original_domain": None, "original_url": None, "attribution_text": None,
            "image_url": None, "tags": [], "content_hash": _id(f"c{i}-{seed}"), "anchors": [], "batch_id": batch_id,
        }
        rows.append(row)
        if lang == "ar" and (i // 2) % pair_every == 0:  # the Arabic article translates the English one before it
            en_url = f"https://{OUTLETS['en'][(i - 1) % 3]}/news/{i - 1}"
            story = "s_" + _id(en_url)
            row["translator"] = "Desk"
            assignments.append({"article_id": _id(en_url), "story_id": story, "duplicate_of": None, "dup_kind": None, "dup_score": None})
            assignments.append({"article_id": row["article_id"], "story_id": story, "duplicate_of": _id(en_url),
                                "dup_kind": "translation", "dup_score": 0.9})
        i += 1
    return pa.Table.from_pylist(rows, schema=with_version(ARTICLE_SCHEMA, "articles")), assignments


def translation_pair(tag: str, en_title: str, ar_title: str, en_body: str, ar_body: str) -> tuple[list[dict], list[dict]]:
    """One hand-written English article and its Arabic translation (rows + assignments)."""
    base = make_articles(2, start=10_000_000 + int(_id(tag), 16) % 1_000_000 * 2)[0].to_pylist()
    en, ar = base
    when = T0 + timedelta(days=30)
    en.update(title=en_title, body_text=en_body, language="en", source_domain="north.example", published_at=when)
    ar.update(title=ar_title, body_text=ar_body, language="ar", source_domain="shamal.example", translator="Desk",
              published_at=when + timedelta(hours=3))
    story = "s_" + en["article_id"]
    return [en, ar], [
        {"article_id": en["article_id"], "story_id": story, "duplicate_of": None, "dup_kind": None, "dup_score": None},
        {"article_id": ar["article_id"], "story_id": story, "duplicate_of": en["article_id"], "dup_kind": "translation", "dup_score": 0.93},
    ]


def postgres_available(url: str = PG_URL) -> bool:
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=3):
            return True
    except Exception:
        return False


@contextlib.contextmanager
def pg_schema(url: str = PG_URL, prefix: str = "nf_test_") -> Iterator[str]:
    """A fresh schema name (created by the first writer), dropped with everything in it at exit."""
    import psycopg
    from psycopg import sql

    name = prefix + uuid.uuid4().hex[:10]
    try:
        yield name
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))
