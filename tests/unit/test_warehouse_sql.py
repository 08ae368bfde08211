"""Static checks on the warehouse SQL and its text folding (no database needed)."""

from __future__ import annotations

import random
import re

import pytest

from pipeline.extract.textnorm import normalize_for_matching
from pipeline.warehouse.backend import SQL_ROOT, split_statements
from pipeline.warehouse.searchtext import fold
from tests.conftest import EXAMPLES

DUCK = SQL_ROOT / "duckdb"
PG = SQL_ROOT / "postgres"


def _names(folder) -> set[str]:
    return {p.name for p in folder.glob("*.sql")}


def test_every_duckdb_file_has_a_postgres_twin_and_back():
    assert sorted(_names(DUCK) - _names(PG)) == []
    assert sorted(_names(PG) - _names(DUCK)) == []


def test_migrations_are_numbered_once_and_alike_in_both_backends():
    def versions(folder):
        return sorted(int(m.group(1)) for p in folder.glob("*.sql") if (m := re.match(r"^(\d{3})_", p.name)))

    for folder in (DUCK, PG):
        v = versions(folder)
        assert len(v) == len(set(v)), f"two migrations share a number in {folder}"
        assert v[0] == 1
    assert versions(DUCK) == versions(PG)


@pytest.mark.parametrize("path", sorted(DUCK.glob("*.sql")), ids=lambda p: p.name)
def test_duckdb_sql_uses_duckdb_parameters(path):
    text = "\n".join(s for s in split_statements(path.read_text(encoding="utf-8")))
    assert "%(" not in text and "%s" not in text


@pytest.mark.parametrize("path", sorted(PG.glob("*.sql")), ids=lambda p: p.name)
def test_postgres_sql_uses_psycopg_parameters(path):
    text = "\n".join(split_statements(path.read_text(encoding="utf-8")))
    assert not re.search(r"\$\w", text), "PostgreSQL files take %(name)s or %s parameters"
    # a literal % would be read as a placeholder by psycopg
    assert not re.search(r"%(?!\(\w+\)s|s)", text)


def test_split_statements_keeps_semicolons_inside_lines():
    text = "-- comment; here\nSELECT ';' AS x;\nSELECT 2;\n"
    assert split_statements(text) == ["SELECT ';' AS x", "SELECT 2"]


def test_fold_equals_normalize_for_matching():
    """Search folds documents with a fast twin of the dedup normalizer: same output."""
    samples = []
    for p in sorted(EXAMPLES.rglob("*")):
        if p.is_file() and p.suffix in {".html", ".xml", ".json", ".yaml", ".md", ".txt"}:
            text = p.read_text(encoding="utf-8", errors="ignore")
            samples += [text[i : i + 2000] for i in range(0, min(len(text), 20000), 2000)]
    rng = random.Random(1)
    alphabet = "aZ9 .,٬٫'’\u066c٣۴ـًٌأإآىةؤئیک\u200f\u202e\u00adß①²ﷺ🙂\t\n-" + "".join(chr(c) for c in range(0x600, 0x700, 7))
    samples += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80))) for _ in range(3000)]
    assert samples
    for s in samples:
        assert fold(s) == normalize_for_matching(s), s


def test_clean_aliases_keeps_one_usable_row_per_alias():
    """A bad alias row must never abort a whole dedup generation (alias is a key, the
    target NOT NULL): such rows are dropped with a warning, the last row per alias wins."""
    import pyarrow as pa

    from pipeline.warehouse.loads import clean_aliases

    table = pa.table({"alias": ["s_a", "s_b", None, "s_c", "s_d", "s_a", ""],
                      "story_id": ["s_x", None, "s_x", "s_c", "s_y", "s_z", "s_x"]})
    out = clean_aliases(table)
    assert out.schema.names == ["alias", "story_id"]
    assert sorted(zip(out["alias"].to_pylist(), out["story_id"].to_pylist(), strict=True)) == [("s_a", "s_z"), ("s_d", "s_y")]
